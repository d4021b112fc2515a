package web

import "github.com/gofiber/fiber/v2"

// getVoucher serves a disbursement's voucher photo.
func (s *Server) getVoucher(c *fiber.Ctx) error {
	b, ct, err := s.fundLedger().Voucher(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(b)
}
