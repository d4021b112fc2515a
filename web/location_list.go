package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listLocations lists stores and stalls.
func (s *Server) listLocations(c *fiber.Ctx) error {
	ls, err := s.inv.Locations(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.Location]{Items: ls})
}
