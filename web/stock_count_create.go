package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// createStockCount books a stocktake; differences become adjustments.
func (s *Server) createStockCount(c *fiber.Ctx) error {
	var in inventory.CountInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		op, err := s.inv.Count(c.UserContext(), tx, community(c).ID, in)
		return fiber.StatusCreated, op, err
	})
}
