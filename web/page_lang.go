package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// pageLang remembers the chosen language and goes back to the page.
func (s *Server) pageLang(c *fiber.Ctx) error {
	l := c.Params("lang")
	if l != langZH && l != langEN {
		return apperr.NotFoundf("unknown language")
	}
	c.Cookie(&fiber.Cookie{Name: "lang", Value: l, Path: "/", Expires: time.Now().AddDate(1, 0, 0), SameSite: fiber.CookieSameSiteLaxMode})
	next := c.Query("next", "/")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}
