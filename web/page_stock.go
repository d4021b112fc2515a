package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// stockAt is the stock of one location on the stock page.
type stockAt struct {
	Location inventory.Location
	Levels   []inventory.Level
	Lots     []inventory.LotLevel
	OnHand   int
	Expired  int // units in lots past best-before
}

type stockPage struct {
	invPageData
	Places []stockAt
	Low    []inventory.Level
}

// pageStock shows stock by location (on hand, held for unpaid sales,
// available, low marks), lots with best-before dates, and what is low.
func (s *Server) pageStock(c *fiber.Ctx) error {
	base, err := s.invPage(c, false)
	if err != nil {
		return err
	}
	cid := community(c).ID
	levels, err := s.inv.Levels(c.UserContext(), s.db, cid, "")
	if err != nil {
		return err
	}
	d := stockPage{invPageData: base}
	for _, l := range base.Locations {
		at := stockAt{Location: l}
		for _, lv := range levels {
			if lv.LocationID == l.ID {
				at.Levels = append(at.Levels, lv)
				at.OnHand += lv.OnHand
			}
		}
		if at.Lots, err = s.inv.Lots(c.UserContext(), s.db, cid, l.ID); err != nil {
			return err
		}
		for _, lot := range at.Lots {
			if lot.Expired {
				at.Expired += lot.OnHand
			}
		}
		d.Places = append(d.Places, at)
	}
	if d.Low, err = s.inv.LowStock(c.UserContext(), s.db, cid); err != nil {
		return err
	}
	return s.render(c, "inv_stock", "inv.stock", d)
}
