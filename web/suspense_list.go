package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/orders"
)

// listSuspense is GET {c}/suspense: money held for the treasurer (payments
// that could not complete their sale), open ones first (?open=true: only
// those), and the sales stuck awaiting payment past their expiry.
func (s *Server) listSuspense(c *fiber.Ctx) error {
	cid := community(c).ID
	limit, _, err := listParams(c)
	if err != nil {
		return err
	}
	items, err := orders.ListSuspense(c.UserContext(), s.db, cid, c.Query("open") == "true", limit)
	if err != nil {
		return err
	}
	stuck, err := orders.StuckAwaiting(c.UserContext(), s.db, cid, time.Now().Add(-15*time.Minute), 100)
	if err != nil {
		return err
	}
	type stuckJSON struct {
		ID        string     `json:"id"`
		Number    string     `json:"number"`
		Total     string     `json:"total"`
		CreatedAt time.Time  `json:"created_at"`
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}
	out := make([]stuckJSON, 0, len(stuck))
	for _, o := range stuck {
		out = append(out, stuckJSON{ID: o.ID, Number: o.Number, Total: o.Total.String(), CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt})
	}
	return c.JSON(fiber.Map{"items": items, "stuck_awaiting": out})
}
