package web

import (
	"github.com/gofiber/fiber/v2"
)

// getGroupBuy is GET {c}/groupbuys/{id}.
func (s *Server) getGroupBuy(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	v, err := s.campaignView(c.UserContext(), s.db, camp)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
