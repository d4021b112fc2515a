package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// pageFundRulesSubmit stores a new version of the rules from the form
// (name_0…name_7, percent_0…percent_7); on an error the form comes back
// with what was typed and a plain message.
func (s *Server) pageFundRulesSubmit(c *fiber.Ctx) error {
	var rows []ruleRow
	var earmarks []fund.RuleEarmark
	var bad error
	for i := 0; i < 8; i++ {
		k := string(rune('0' + i))
		name := strings.TrimSpace(c.FormValue("name_" + k))
		pct := strings.TrimSpace(c.FormValue("percent_" + k))
		rows = append(rows, ruleRow{strings.Clone(name), strings.Clone(pct)})
		if name == "" && pct == "" {
			continue
		}
		if name == "通用" {
			name = fund.General
		}
		d, err := decimal.NewFromString(pct)
		if err != nil && bad == nil {
			bad = apperr.Field("percent", "“%s” is not a number", pct)
		}
		earmarks = append(earmarks, fund.RuleEarmark{Name: strings.Clone(name), Percent: d})
	}
	err := bad
	if err == nil && len(earmarks) > 0 {
		sum := decimal.Zero
		for _, e := range earmarks {
			sum = sum.Add(e.Percent)
		}
		if !sum.Equal(decimal.NewFromInt(100)) {
			c.Status(fiber.StatusUnprocessableEntity)
			return s.renderFundRules(c, rows, s.ui.t(lang(c), "fund.err.rules.sum", sum.String()))
		}
	}
	if err == nil {
		err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
			_, err := s.fundLedger().SetRules(c.UserContext(), tx, community(c).ID, currentUser(c).ID, earmarks)
			return err
		})
	}
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderFundRules(c, rows, e.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/" + community(c).ID + "/fund/rules?saved=1")
}
