package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// pageProjectApproveSubmit approves a project from its page (admin).
func (s *Server) pageProjectApproveSubmit(c *fiber.Ctx) error {
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		_, err := s.fundLedger().ApproveProject(c.UserContext(), tx, community(c).ID, param(c, "id"), currentUser(c).ID, time.Time{})
		return err
	})
	if err != nil {
		return s.projectFormError(c, err)
	}
	return c.Redirect(c.Path()[:len(c.Path())-len("/approve")], fiber.StatusSeeOther)
}
