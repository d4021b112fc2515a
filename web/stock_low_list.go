package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listLowStock shows what is at or under its low-stock threshold.
func (s *Server) listLowStock(c *fiber.Ctx) error {
	ls, err := s.inv.LowStock(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.Level]{Items: ls})
}
