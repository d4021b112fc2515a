package web

import "github.com/gofiber/fiber/v2"

// deleteSession signs the current session out.
func (s *Server) deleteSession(c *fiber.Ctx) error {
	sess, _ := session(c)
	if err := s.ids.SignOut(c.UserContext(), sess.Token); err != nil {
		return err
	}
	c.ClearCookie(sessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}
