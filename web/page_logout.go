package web

import "github.com/gofiber/fiber/v2"

// pageLogout signs out from the page (a form carrying the CSRF token).
func (s *Server) pageLogout(c *fiber.Ctx) error {
	sess, _ := session(c)
	if err := s.ids.SignOut(c.UserContext(), sess.Token); err != nil {
		return err
	}
	c.ClearCookie(sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}
