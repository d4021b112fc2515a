package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
)

// rulesPageView is what templates/fund_rules.html shows.
type rulesPageView struct {
	Community identity.Community
	Rules     fund.Rules
	Rows      []ruleRow
	Error     string
	Saved     bool
	CanEdit   bool
}

type ruleRow struct{ Name, Percent string }

// pageFundRules shows the allocation rules and, to the admin, a form for a
// new version.
func (s *Server) pageFundRules(c *fiber.Ctx) error {
	return s.renderFundRules(c, nil, "")
}

// renderFundRules shows the rules page with the rows typed (after an error)
// or the rules in force.
func (s *Server) renderFundRules(c *fiber.Ctx, rows []ruleRow, msg string) error {
	com := community(c)
	r, err := s.fundLedger().CurrentRules(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	u := currentUser(c)
	v := rulesPageView{Community: com, Rules: r, Error: msg, Saved: c.Query("saved") == "1",
		CanEdit: u.Role == identity.Admin || u.Role == identity.PlatformAdmin}
	if rows == nil {
		for _, e := range r.Earmarks {
			rows = append(rows, ruleRow{e.Name, e.Percent.String()})
		}
	}
	for len(rows) < 8 {
		rows = append(rows, ruleRow{})
	}
	v.Rows = rows
	return s.render(c, "fund_rules", "fund.rules.title", v)
}
