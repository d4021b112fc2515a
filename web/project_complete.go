package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// completeProject marks a project done: {"residents_benefited": N}.
func (s *Server) completeProject(c *fiber.Ctx) error {
	var in struct {
		ResidentsBenefited *int `json:"residents_benefited"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.ResidentsBenefited == nil {
		return apperr.Field("residents_benefited", "give the number of residents who benefited")
	}
	var p fund.Project
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.fundLedger().CompleteProject(c.UserContext(), tx, community(c).ID, param(c, "id"), *in.ResidentsBenefited, time.Time{})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(p)
}
