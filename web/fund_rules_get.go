package web

import "github.com/gofiber/fiber/v2"

// getFundRules shows the allocation rules in force (version 0: general 100%).
func (s *Server) getFundRules(c *fiber.Ctx) error {
	r, err := s.fundLedger().CurrentRules(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(r)
}
