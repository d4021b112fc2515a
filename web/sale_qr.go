package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/orders"
	"shelin/orders/payment"
)

// saleQR is GET {c}/sales/{id}/qr.svg and qr.png: the code of the sale's
// qr_payload, drawn once per payment and cached.
func (s *Server) saleQR(c *fiber.Ctx) error {
	o, err := orders.Get(c.UserContext(), s.db, community(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	p, err := orders.PaymentOf(c.UserContext(), s.db, o.ID)
	if err != nil {
		return err
	}
	if p.QRPayload == nil {
		return apperr.NotFoundf("this sale has no QR code")
	}
	png, svg, err := payment.QRImages(c.UserContext(), s.db, p.ID, *p.QRPayload)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	if strings.HasSuffix(c.Path(), ".png") {
		c.Set(fiber.HeaderContentType, "image/png")
		return c.Send(png)
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.SendString(svg)
}
