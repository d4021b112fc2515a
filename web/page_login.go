package web

import (
	"github.com/gofiber/fiber/v2"
)

// pageLogin shows the sign-in form.
func (s *Server) pageLogin(c *fiber.Ctx) error {
	if _, ok := session(c); ok {
		return c.Redirect("/")
	}
	return s.render(c, "login", "login.title", fiber.Map{})
}
