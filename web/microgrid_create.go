package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
)

// createMicroGrid adds a micro-grid with its 邻长 (admin).
func (s *Server) createMicroGrid(c *fiber.Ctx) error {
	var in identity.NewMicroGrid
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	com := community(c)
	var m identity.MicroGrid
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		if m, err = s.ids.CreateMicroGrid(c.UserContext(), tx, com.ID, in); err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: currentUser(c).ID,
			Action: "create", Entity: "micro_grid", EntityID: m.ID, After: m})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}
