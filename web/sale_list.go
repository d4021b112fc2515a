package web

import (
	"github.com/gofiber/fiber/v2"
)

// listSales is GET {c}/sales?location_id=: the recent sales of a stall (or
// of the community), newest first.
func (s *Server) listSales(c *fiber.Ctx) error {
	limit, _, err := listParams(c)
	if err != nil {
		return err
	}
	sales, err := s.pos.svc.RecentSales(c.UserContext(), s.db, community(c).ID, c.Query("location_id"), limit)
	if err != nil {
		return err
	}
	items := make([]saleJSON, 0, len(sales))
	for _, sale := range sales {
		items = append(items, s.saleView(sale))
	}
	return c.JSON(page[saleJSON]{Items: items})
}
