package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// matchStaticSale is POST {c}/statements/{id}/rows/{line}/static-match
// {"payment_id"}: tick a 收款码 sale off against a statement row Shelin
// could not match, and settle it to the bank.
func (s *Server) matchStaticSale(c *fiber.Ctx) error {
	line, err := strconv.Atoi(c.Params("line"))
	if err != nil || line < 1 {
		return apperr.NotFoundf("statement row not found")
	}
	var req struct {
		PaymentID string `json:"payment_id"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	st, err := s.rec.MatchStatic(c.UserContext(), community(c).ID, string([]byte(c.Params("id"))), line, req.PaymentID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"settled": st.Settled, "to_bank": st.ToBank, "fees": st.Fees, "fee_adjustment": st.FeeAdjust})
}
