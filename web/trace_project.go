package web

import "github.com/gofiber/fiber/v2"

// traceProject follows a project's fund part back to its sources.
func (s *Server) traceProject(c *fiber.Ctx) error {
	t, err := s.fundLedger().TraceProject(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}
