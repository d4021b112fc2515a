package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listStock shows stock levels (on hand, reserved, available), at one
// location with ?location_id=.
func (s *Server) listStock(c *fiber.Ctx) error {
	ls, err := s.inv.Levels(c.UserContext(), s.db, community(c).ID, query(c, "location_id"))
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.Level]{Items: ls})
}
