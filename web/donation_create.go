package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// createDonation records a donation to the fund (another source of lots):
// {"amount","method":"cash"|"bank","donor"?,"earmark"?}. Idempotency-Key required.
// Bank donations arrive in the bank; cash handed to the community office
// arrives in the collected cash (contributions:cash) until it is deposited.
func (s *Server) createDonation(c *fiber.Ctx) error {
	var in struct {
		Amount  *money.Amount `json:"amount"`
		Method  string        `json:"method"`
		Donor   string        `json:"donor"`
		Earmark string        `json:"earmark"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Amount == nil {
		return apperr.Field("amount", "the amount is required")
	}
	debit := fund.Bank()
	switch in.Method {
	case "", "bank":
	case "cash":
		debit = fund.Contributions("cash")
	default:
		return apperr.Field("method", "method must be cash or bank")
	}
	if len([]rune(in.Donor)) > 100 {
		return apperr.Field("donor", "the donor's name is too long")
	}
	cid := community(c).ID
	key := strings.Clone(c.Get("Idempotency-Key"))
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		ref := "捐赠"
		if in.Donor != "" {
			ref = "捐赠 · " + in.Donor
		}
		p, err := s.fundLedger().PostProceeds(c.UserContext(), tx, fund.Proceeds{
			CommunityID: cid, SourceKind: fund.SourceDonation, SourceID: "donation-" + key, SourceRef: ref,
			DebitAccount: debit, Gross: *in.Amount, Earmark: in.Earmark,
		})
		if err != nil {
			return 0, nil, err
		}
		return fiber.StatusCreated, fiber.Map{"id": p.EntryID, "amount": p.Net, "earmarks": p.Earmarks, "trace_url": "/t/" + p.TraceToken}, nil
	})
}
