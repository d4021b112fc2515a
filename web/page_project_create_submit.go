package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// pageProjectCreateSubmit records a proposal from the projects page.
func (s *Server) pageProjectCreateSubmit(c *fiber.Ctx) error {
	form := map[string]string{}
	for _, k := range []string{"title", "description", "purpose", "budget", "fund_share", "micro_grid"} {
		form[k] = strings.Clone(strings.TrimSpace(c.FormValue(k)))
	}
	var p fund.Project
	budget, err := money.ParsePositive("budget", form["budget"])
	var share money.Amount
	if err == nil {
		share, err = money.ParseNonNegative("fund_share", form["fund_share"])
	}
	if err == nil {
		err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
			p, err = s.fundLedger().ProposeProject(c.UserContext(), tx, community(c).ID, fund.ProjectInput{
				Title: form["title"], Description: form["description"], Purpose: form["purpose"], Budget: budget, FundShare: share,
				MicroGrid: form["micro_grid"], ProposedBy: currentUser(c).ID,
			})
			return err
		})
	}
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderFundProjects(c, e.Message, form)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+community(c).ID+"/projects/"+p.ID, fiber.StatusSeeOther)
}
