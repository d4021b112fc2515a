package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
)

// listContributions lists a project's contributions.
func (s *Server) listContributions(c *fiber.Ctx) error {
	ks, err := s.fundLedger().Contributions(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(page[fund.Contribution]{Items: ks})
}
