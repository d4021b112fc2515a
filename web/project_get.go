package web

import "github.com/gofiber/fiber/v2"

// getProject shows a project and where its money stands.
func (s *Server) getProject(c *fiber.Ctx) error {
	p, err := s.fundLedger().GetProject(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}
