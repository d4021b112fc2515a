package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/inventory"
)

// createLocation adds a store (the neighbourhood centre) or a park stall.
func (s *Server) createLocation(c *fiber.Ctx) error {
	var in struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var l inventory.Location
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		l, err = s.inv.CreateLocation(c.UserContext(), tx, community(c).ID, in.Name, in.Kind)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}
