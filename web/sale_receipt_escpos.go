package web

import "github.com/gofiber/fiber/v2"

// saleReceiptESCPOS is GET {c}/sales/{id}/receipt.escpos: the receipt as
// ESC/POS bytes for a 58 mm network thermal printer.
func (s *Server) saleReceiptESCPOS(c *fiber.Ctx) error {
	r, err := s.pos.svc.ReceiptOf(c.UserContext(), s.db, community(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.escpos")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+r.Number+`.escpos"`)
	return c.Send(r.ESCPOS())
}
