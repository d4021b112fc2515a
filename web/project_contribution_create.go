package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// contributionJSON is a recorded contribution with the project after it.
type contributionJSON struct {
	fund.Contribution
	Project fund.Project `json:"project"`
}

// createContribution records residents' money for a project (cash collected
// by the 邻长 with a receipt number, or paid by QR). Idempotency-Key required.
func (s *Server) createContribution(c *fiber.Ctx) error {
	var in struct {
		Amount      *money.Amount `json:"amount"`
		Contributor string        `json:"contributor"`
		Method      string        `json:"method"`
		ReceiptNo   string        `json:"receipt_no"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Amount == nil {
		return apperr.Field("amount", "the amount is required")
	}
	cid, pid, uid := community(c).ID, param(c, "id"), currentUser(c).ID
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		k, p, err := s.fundLedger().Contribute(c.UserContext(), tx, cid, pid, fund.ContributionInput{
			Amount: *in.Amount, Method: in.Method, Contributor: in.Contributor, ReceiptNo: in.ReceiptNo, CollectedBy: uid,
		})
		if err != nil {
			return 0, nil, err
		}
		return fiber.StatusCreated, contributionJSON{k, p}, nil
	})
}
