package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders"
	"shelin/orders/payment"
)

// saleReceiptQR is GET {c}/sales/{id}/receipt-qr.svg: a code of the receipt
// page for the tourist to scan and keep.
func (s *Server) saleReceiptQR(c *fiber.Ctx) error {
	o, err := orders.Get(c.UserContext(), s.db, community(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	svg, err := payment.QRSVG(s.pos.svc.ReceiptURL(o.ReceiptToken), 16)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	return c.SendString(svg)
}
