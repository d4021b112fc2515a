package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// getStaticQR is GET {c}/payment-settings/static: the uploaded 收款码 image.
func (s *Server) getStaticQR(c *fiber.Ctx) error {
	ct, b, err := payment.StaticImage(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(b)
}
