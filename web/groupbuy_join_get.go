package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders"
)

// getGroupBuyJoin is GET /api/v1/groupbuys/{token}/joins/{jtoken}: the
// neighbour's own join (its private token), with the pickup code once paid.
func (s *Server) getGroupBuyJoin(c *fiber.Ctx) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	j, err := s.gb.JoinByToken(c.UserContext(), s.db, camp.ID, c.Params("jtoken"))
	if err != nil {
		return err
	}
	p, err := orders.PaymentByID(c.UserContext(), s.db, j.PaymentID)
	if err != nil {
		return err
	}
	return c.JSON(s.joinView(camp, j, p))
}
