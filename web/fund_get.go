package web

import "github.com/gofiber/fiber/v2"

// getFund shows the fund's balance, earmarks and totals.
func (s *Server) getFund(c *fiber.Ctx) error {
	sum, err := s.fundLedger().FundSummary(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(toFundJSON(sum))
}
