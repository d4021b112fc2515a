package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// projectInput is the body of POST {c}/projects.
type projectInput struct {
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Purpose     string        `json:"purpose"`
	Budget      *money.Amount `json:"budget"`
	FundShare   *money.Amount `json:"fund_share"`
	MicroGrid   string        `json:"micro_grid"`
}

// createProject records a 邻长's proposal: budget and the fund's share.
func (s *Server) createProject(c *fiber.Ctx) error {
	var in projectInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Budget == nil {
		return apperr.Field("budget", "the budget is required")
	}
	if in.FundShare == nil {
		return apperr.Field("fund_share", "the fund share is required")
	}
	var p fund.Project
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.fundLedger().ProposeProject(c.UserContext(), tx, community(c).ID, fund.ProjectInput{
			Title: in.Title, Description: in.Description, Purpose: in.Purpose, Budget: *in.Budget, FundShare: *in.FundShare,
			MicroGrid: in.MicroGrid, ProposedBy: currentUser(c).ID,
		})
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}
