package web

import "github.com/gofiber/fiber/v2"

// getReceipt is GET /api/v1/receipts/{token}: the public JSON twin of /r/{token}.
func (s *Server) getReceipt(c *fiber.Ctx) error {
	r, err := s.pos.svc.ReceiptByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}
