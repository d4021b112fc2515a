package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
	"shelin/internal/apperr"
)

// pageLoginSubmit signs in from the form and sets the session cookie
// (HttpOnly, SameSite=Lax; writes also need the CSRF token).
func (s *Server) pageLoginSubmit(c *fiber.Ctx) error {
	login := strings.TrimSpace(c.FormValue("login"))
	sess, err := s.ids.SignIn(c.UserContext(), login, c.FormValue("password"), s.clientIP(c))
	if err != nil {
		key := ""
		switch apperr.CodeOf(err) {
		case apperr.Unauthorized:
			key = "login.wrong"
			c.Status(fiber.StatusUnauthorized)
		case apperr.RateLimited:
			key = "login.throttled"
			if wait, ok := identity.RetryAfter(err); ok {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			}
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
