package web

import (
	"github.com/gofiber/fiber/v2"
)

// testPaymentSettings is POST {c}/payment-settings/{provider}/test:
// "test connection" — a signed query the provider must answer with a
// correctly signed "no such trade" → {"ok":true}; otherwise {"ok":false,
// "message"}.
func (s *Server) testPaymentSettings(c *fiber.Ctx) error {
	ok, msg, err := s.testMerchant(c.UserContext(), community(c).ID, param(c, "provider"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": ok, "message": msg})
}
