package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// listProductPrices shows a product's price, cost and maker-share history.
func (s *Server) listProductPrices(c *fiber.Ctx) error {
	h, err := s.inv.PriceHistory(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(page[inventory.PriceChange]{Items: h})
}
