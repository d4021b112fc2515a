package web

import (
	"github.com/gofiber/fiber/v2"
)

// pageReceipt is GET /r/{token}: the e-receipt for the tourist's phone, and
// a 58 mm print layout, in Chinese and English at once.
func (s *Server) pageReceipt(c *fiber.Ctx) error {
	r, err := s.pos.svc.ReceiptByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	return s.render(c, "receipt", "receipt.title", fiber.Map{"R": r})
}
