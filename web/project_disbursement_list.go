package web

import "github.com/gofiber/fiber/v2"

// listDisbursements lists a project's disbursements.
func (s *Server) listDisbursements(c *fiber.Ctx) error {
	cid := community(c).ID
	ds, err := s.fundLedger().Disbursements(c.UserContext(), s.db, cid, param(c, "id"))
	if err != nil {
		return err
	}
	out := make([]disbursementJSON, len(ds))
	for i, d := range ds {
		out[i] = disbursementJSON{Disbursement: d, VoucherURL: voucherURL(cid, d.ID)}
	}
	return c.JSON(page[disbursementJSON]{Items: out})
}
