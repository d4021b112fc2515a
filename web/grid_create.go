package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
)

// createGrid adds a grid (admin).
func (s *Server) createGrid(c *fiber.Ctx) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	com := community(c)
	var g identity.Grid
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		if g, err = s.ids.CreateGrid(c.UserContext(), tx, com.ID, in.Name); err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: currentUser(c).ID,
			Action: "create", Entity: "grid", EntityID: g.ID, After: g})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}
