package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listStockMovements shows the append-only stock log, newest first, with
// ?product_id=, ?location_id=, ?ref=, ?limit= and ?cursor=.
func (s *Server) listStockMovements(c *fiber.Ctx) error {
	limit, cursor, err := listParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.inv.Movements(c.UserContext(), s.db, community(c).ID, inventory.MovementFilter{
		ProductID: query(c, "product_id"), LocationID: query(c, "location_id"), Ref: query(c, "ref"),
		Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.Movement]{Items: items, NextCursor: encodeCursor(next)})
}
