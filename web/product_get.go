package web

import (
	"github.com/gofiber/fiber/v2"
)

// getProduct shows one product.
func (s *Server) getProduct(c *fiber.Ctx) error {
	p, err := s.inv.Product(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(toProductJSON(p))
}
