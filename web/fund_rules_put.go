package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
)

// putFundRules stores a new version of the allocation rules; percents must
// sum to 100. Entries posted from now on record the new version.
func (s *Server) putFundRules(c *fiber.Ctx) error {
	var in struct {
		Earmarks []fund.RuleEarmark `json:"earmarks"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var r fund.Rules
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		r, err = s.fundLedger().SetRules(c.UserContext(), tx, community(c).ID, currentUser(c).ID, in.Earmarks)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(r)
}
