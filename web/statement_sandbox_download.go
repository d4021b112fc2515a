package web

import (
	"github.com/gofiber/fiber/v2"
)

// downloadSandboxStatement is POST {c}/statements/sandbox {"day"}: fetch the
// sandbox provider's statement of a day and import it (simulation).
func (s *Server) downloadSandboxStatement(c *fiber.Ctx) error {
	var req struct {
		Day string `json:"day"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	date, err := dayValue(c, req.Day)
	if err != nil {
		return err
	}
	res, err := s.rec.ImportSandbox(c.UserContext(), community(c).ID, date, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(res)
}
