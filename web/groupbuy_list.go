package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

// listGroupBuys is GET {c}/groupbuys: a 邻长's own campaigns, or all of
// them for admins and treasurers.
func (s *Server) listGroupBuys(c *fiber.Ctx) error {
	limit, _, err := listParams(c)
	if err != nil {
		return err
	}
	by := ""
	if u := currentUser(c); u.Role == identity.Leader {
		by = u.ID
	}
	cs, err := s.gb.List(c.UserContext(), s.db, community(c).ID, by, limit)
	if err != nil {
		return err
	}
	items := make([]campaignJSON, 0, len(cs))
	for i := range cs {
		v, err := s.campaignView(c.UserContext(), s.db, &cs[i])
		if err != nil {
			return err
		}
		items = append(items, v)
	}
	return c.JSON(page[campaignJSON]{Items: items})
}
