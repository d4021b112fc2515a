package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
)

// listProjects lists the community's projects, newest first.
func (s *Server) listProjects(c *fiber.Ctx) error {
	ps, err := s.fundLedger().ListProjects(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(page[fund.Project]{Items: ps})
}
