package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// pagePaySubmit is POST /pay/{token}: the customer taps "pay" in the
// sandbox wallet, which queues the signed notification to the webhook.
func (s *Server) pagePaySubmit(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if _, err := s.pos.sandbox.Pay(c.UserContext(), s.db, token); err != nil {
		return err
	}
	return c.Redirect("/pay/"+token, fiber.StatusSeeOther)
}
