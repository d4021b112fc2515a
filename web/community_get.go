package web

import "github.com/gofiber/fiber/v2"

// getCommunity returns the route's community.
func (s *Server) getCommunity(c *fiber.Ctx) error {
	return c.JSON(community(c))
}
