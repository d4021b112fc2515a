package web

import "github.com/gofiber/fiber/v2"

// getDay is GET {c}/days/{date}: the business day's sales, refunds, fund
// inflow, shifts, statements and issues (API.md "Reconciliation and day close").
func (s *Server) getDay(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	d, err := s.rec.Day(c.UserContext(), community(c).ID, date)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
