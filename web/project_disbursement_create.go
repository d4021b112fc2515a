package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// disbursementJSON is a recorded disbursement with the project after it.
type disbursementJSON struct {
	fund.Disbursement
	VoucherURL string       `json:"voucher_url"`
	Project    fund.Project `json:"project"`
}

// createDisbursement pays project money to a payee, never more than the
// project holds (409). The voucher photo is uploaded with PUT
// {c}/disbursements/{id}/voucher. Idempotency-Key required.
func (s *Server) createDisbursement(c *fiber.Ctx) error {
	var in struct {
		Amount *money.Amount `json:"amount"`
		Payee  string        `json:"payee"`
		Memo   string        `json:"memo"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Amount == nil {
		return apperr.Field("amount", "the amount is required")
	}
	com, pid, uid := community(c), param(c, "id"), currentUser(c).ID
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		d, p, err := s.fundLedger().Disburse(c.UserContext(), tx, com.ID, pid, fund.DisbursementInput{
			Amount: *in.Amount, Payee: in.Payee, Memo: in.Memo, CreatedBy: uid,
		})
		if err != nil {
			return 0, nil, err
		}
		return fiber.StatusCreated, disbursementJSON{d, voucherURL(com.ID, d.ID), p}, nil
	})
}

func voucherURL(cid, id string) string {
	return "/api/v1/communities/" + cid + "/disbursements/" + id + "/voucher"
}
