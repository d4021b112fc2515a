package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

// pageGroupBuys is GET /admin/{cid}/groupbuys: a 邻长's group-buys on a
// phone, and a one-screen form to start one from a product.
func (s *Server) pageGroupBuys(c *fiber.Ctx) error { return s.renderGroupBuys(c, "") }

func (s *Server) renderGroupBuys(c *fiber.Ctx, errMsg string) error {
	u, cid := currentUser(c), community(c).ID
	by := ""
	if u.Role == identity.Leader {
		by = u.ID
	}
	cs, err := s.gb.List(c.UserContext(), s.db, cid, by, 100)
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
	ps, err := s.inv.Products(c.UserContext(), s.db, cid, true)
	if err != nil {
		return err
	}
	return s.render(c, "gb_list", "gb.list.title", fiber.Map{"CID": cid, "Items": items, "Products": ps, "Error": errMsg,
		"CanCreate": u.Role == identity.Leader || u.Role == identity.Admin || u.Role == identity.PlatformAdmin})
}
