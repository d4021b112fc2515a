package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
	"shelin/internal/money"
)

// updateProject changes a proposal (title, description, purpose, budget,
// fund share) until it is approved.
func (s *Server) updateProject(c *fiber.Ctx) error {
	var in struct {
		Title       *string       `json:"title"`
		Description *string       `json:"description"`
		Purpose     *string       `json:"purpose"`
		Budget      *money.Amount `json:"budget"`
		FundShare   *money.Amount `json:"fund_share"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var p fund.Project
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.fundLedger().UpdateProject(c.UserContext(), tx, community(c).ID, param(c, "id"), fund.ProjectPatch{
			Title: in.Title, Description: in.Description, Purpose: in.Purpose, Budget: in.Budget, FundShare: in.FundShare,
		})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(p)
}
