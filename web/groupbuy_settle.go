package web

import (
	"github.com/gofiber/fiber/v2"
)

// settleGroupBuy is POST {c}/groupbuys/{id}/settle: settle now (once; a
// second call answers the settled campaign).
func (s *Server) settleGroupBuy(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	res, err := s.gb.Settle(c.UserContext(), camp.CommunityID, camp.ID)
	if err != nil {
		return err
	}
	v, err := s.campaignView(c.UserContext(), s.db, res.Campaign)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
