package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// pageLoginSubmit signs in from the form and sets the session cookie
// (HttpOnly, SameSite=Lax; writes also need the CSRF token).
func (s *Server) pageLoginSubmit(c *fiber.Ctx) error {
	login := strings.TrimSpace(c.FormValue("login"))
	sess, err := s.ids.SignIn(c.UserContext(), login, c.FormValue("password"), c.IP())
	if err != nil {
		key := ""
		switch apperr.CodeOf(err) {
		case apperr.Unauthorized:
			key = "login.wrong"
			c.Status(fiber.StatusUnauthorized)
		case apperr.RateLimited:
			key = "login.throttled"
			c.Status(fiber.StatusTooManyRequests)
		default:
			return err
		}
		return s.render(c, "login", "login.title", fiber.Map{"Error": key, "Login": login})
	}
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: strings.HasPrefix(s.cfg.BaseURL, "https://"), Expires: sess.ExpiresAt.Add(-time.Minute),
	})
	return c.Redirect("/", fiber.StatusSeeOther)
}
