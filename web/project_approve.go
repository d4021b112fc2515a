package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
)

// approveProject commits the fund's share from its lots (first in, first
// out); 409 when the fund cannot cover it.
func (s *Server) approveProject(c *fiber.Ctx) error {
	var p fund.Project
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.fundLedger().ApproveProject(c.UserContext(), tx, community(c).ID, param(c, "id"), currentUser(c).ID, time.Time{})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(p)
}
