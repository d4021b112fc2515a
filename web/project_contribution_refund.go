package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
)

// contributionRefundJSON is a refunded contribution with the project after it.
type contributionRefundJSON struct {
	fund.ContributionRefund
	Project fund.Project `json:"project"`
}

// refundContribution gives a resident's contribution back when its project
// was rejected or not yet approved (409 once the fund has approved it). The
// contribution id makes it idempotent: a second call returns the first
// refund and moves no money.
func (s *Server) refundContribution(c *fiber.Ctx) error {
	var out contributionRefundJSON
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		out.ContributionRefund, out.Project, err = s.fundLedger().RefundContribution(c.UserContext(), tx,
			community(c).ID, param(c, "id"), param(c, "kid"), currentUser(c).ID, time.Time{})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}
