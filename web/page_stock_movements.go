package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// movementRow is a movement with its time as people read it.
type movementRow struct {
	inventory.Movement
	When string
}

type movementsPage struct {
	invPageData
	Items      []movementRow
	LocationID string
	ProductID  string
	Next       string
}

// pageStockMovements shows the stock log, newest first, 50 at a time.
func (s *Server) pageStockMovements(c *fiber.Ctx) error {
	base, err := s.invPage(c, true)
	if err != nil {
		return err
	}
	d := movementsPage{invPageData: base, LocationID: query(c, "location_id"), ProductID: query(c, "product_id")}
	items, next, err := s.inv.Movements(c.UserContext(), s.db, community(c).ID, inventory.MovementFilter{
		LocationID: d.LocationID, ProductID: d.ProductID, Limit: 50, Cursor: query(c, "before")})
	if err != nil {
		return err
	}
	tz, err := time.LoadLocation(community(c).Timezone)
	if err != nil {
		tz = time.FixedZone("CST", 8*3600)
	}
	for _, m := range items {
		t := m.At.In(tz)
		d.Items = append(d.Items, movementRow{Movement: m, When: formatDate(lang(c), t) + " " + t.Format("15:04")})
	}
	d.Next = next
	return s.render(c, "inv_movements", "inv.movements", d)
}
