package web

import "github.com/gofiber/fiber/v2"

// getMe returns the signed-in user.
func (s *Server) getMe(c *fiber.Ctx) error {
	return c.JSON(toSessionUser(currentUser(c)))
}
