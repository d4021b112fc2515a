package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// pageProjectCompleteSubmit marks a project done with the number of
// residents who benefited.
func (s *Server) pageProjectCompleteSubmit(c *fiber.Ctx) error {
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("residents_benefited")))
	if err != nil {
		return s.projectFormError(c, apperr.Field("residents_benefited", "give the number of residents who benefited"))
	}
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		_, err := s.fundLedger().CompleteProject(c.UserContext(), tx, community(c).ID, param(c, "id"), n, time.Time{})
		return err
	})
	if err != nil {
		return s.projectFormError(c, err)
	}
	return c.Redirect(c.Path()[:len(c.Path())-len("/complete")], fiber.StatusSeeOther)
}
