package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
)

// rejectProject turns a proposal down.
func (s *Server) rejectProject(c *fiber.Ctx) error {
	var p fund.Project
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.fundLedger().RejectProject(c.UserContext(), tx, community(c).ID, param(c, "id"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(p)
}
