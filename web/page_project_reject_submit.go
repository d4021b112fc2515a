package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// pageProjectRejectSubmit turns a proposal down from its page (admin).
func (s *Server) pageProjectRejectSubmit(c *fiber.Ctx) error {
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		_, err := s.fundLedger().RejectProject(c.UserContext(), tx, community(c).ID, param(c, "id"))
		return err
	})
	if err != nil {
		return s.projectFormError(c, err)
	}
	return c.Redirect(c.Path()[:len(c.Path())-len("/reject")], fiber.StatusSeeOther)
}
