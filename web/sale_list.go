package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// listSales is GET {c}/sales?location_id=: the recent sales of a stall (or
// of the community), newest first.
func (s *Server) listSales(c *fiber.Ctx) error {
	limit, _, err := listParams(c)
	if err != nil {
		return err
	}
	cid, loc := community(c).ID, c.Query("location_id")
	var ids []string
	q := `SELECT ps.order_id FROM pos_sales ps WHERE ps.community_id=$1 AND ($2 = '' OR ps.location_id::text = $2)
		ORDER BY ps.created_at DESC LIMIT $3`
	if err := s.db.SelectContext(c.UserContext(), &ids, q, cid, loc, limit); err != nil {
		return err
	}
	items := make([]saleJSON, 0, len(ids))
	for _, id := range ids {
		v, err := s.saleOf(c.UserContext(), s.db, cid, id)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				continue
			}
			return err
		}
		items = append(items, v)
	}
	return c.JSON(page[saleJSON]{Items: items})
}
