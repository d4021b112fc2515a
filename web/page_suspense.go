package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/orders"
	"shelin/pos"
)

// suspenseView is what templates/suspense.html shows.
type suspenseView struct {
	CommunityID string
	Items       []suspenseRow
	Stuck       []orders.Order
	Done        string
}

type suspenseRow struct {
	orders.Suspense
	At   time.Time // created_at in the community's time zone
	Open bool
	Auto bool // refunded by the system (a late payment at WeChat Pay or Alipay)
}

// pageSuspense is GET /admin/{cid}/suspense: the treasurer's list of money
// held in suspense — payments that arrived but could not complete their sale
// (late, after a cancel, a wrong amount) — each with its two actions (give it
// back, or complete the sale), and sales stuck awaiting payment.
func (s *Server) pageSuspense(c *fiber.Ctx) error {
	ctx, com := c.UserContext(), community(c)
	items, err := orders.ListSuspense(ctx, s.db, com.ID, false, 200)
	if err != nil {
		return err
	}
	v := suspenseView{CommunityID: com.ID, Done: c.Query("done")}
	loc := com.Location()
	for _, it := range items {
		auto, err := pos.AutoRefunded(ctx, s.db, it.ID)
		if err != nil {
			return err
		}
		v.Items = append(v.Items, suspenseRow{Suspense: it, At: it.CreatedAt.In(loc), Open: it.Status == orders.SuspenseOpen, Auto: auto})
	}
	if v.Stuck, err = orders.StuckAwaiting(ctx, s.db, com.ID, time.Now().Add(-15*time.Minute), 100); err != nil {
		return err
	}
	for i := range v.Stuck {
		v.Stuck[i].CreatedAt = v.Stuck[i].CreatedAt.In(loc)
	}
	return s.render(c, "suspense", "susp.title", v)
}
