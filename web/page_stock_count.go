package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

type countPage struct {
	invPageData
	Location inventory.Location
	Levels   []inventory.Level
	StoreID  string
	Result   *inventory.Operation
}

// pageStockCount shows a count sheet for one location: every product there
// with what the system expects; at a stall, the rest can go back to the store
// in the same step.
func (s *Server) pageStockCount(c *fiber.Ctx) error {
	return s.renderCount(c, "", fiber.StatusOK)
}

func (s *Server) renderCount(c *fiber.Ctx, msg string, st int) error {
	base, err := s.invPage(c, false)
	if err != nil {
		return err
	}
	d := countPage{invPageData: base}
	d.Error = msg
	locID := query(c, "location_id")
	if locID == "" {
		locID = formValue(c, "location_id")
	}
	for _, l := range base.Locations {
		if l.Kind == inventory.KindStore && d.StoreID == "" {
			d.StoreID = l.ID
		}
		if l.ID == locID || (locID == "" && d.Location.ID == "") {
			d.Location = l
		}
	}
	if d.Location.ID != "" {
		if d.Levels, err = s.inv.Levels(c.UserContext(), s.db, community(c).ID, d.Location.ID); err != nil {
			return err
		}
	}
	c.Status(st)
	return s.render(c, "inv_count", "inv.count", d)
}
