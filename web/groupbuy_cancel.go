package web

import (
	"github.com/gofiber/fiber/v2"
)

// cancelGroupBuy is POST {c}/groupbuys/{id}/cancel: close an open campaign
// now (status closed); every paid join is refunded through its provider.
func (s *Server) cancelGroupBuy(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	res, err := s.gb.Cancel(c.UserContext(), camp.CommunityID, camp.ID)
	if err != nil {
		return err
	}
	v, err := s.campaignView(c.UserContext(), s.db, res.Campaign)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
