package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listStockLots shows the lots at a location with their best-before dates.
func (s *Server) listStockLots(c *fiber.Ctx) error {
	ls, err := s.inv.Lots(c.UserContext(), s.db, community(c).ID, query(c, "location_id"))
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.LotLevel]{Items: ls})
}
