package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/groupbuy"
	"shelin/internal/money"
)

// leaderJoin is a join as its 邻长 sees it: the phone masked.
type leaderJoin struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Phone       string       `json:"phone"`
	Building    string       `json:"building"`
	Qty         int          `json:"qty"`
	Amount      money.Amount `json:"amount"`
	Status      string       `json:"status"`
	PaidAt      *time.Time   `json:"paid_at"`
	PickedUpAt  *time.Time   `json:"picked_up_at"`
	PickedUpFor string       `json:"picked_up_for,omitempty"`
}

func leaderJoins(js []groupbuy.Join) []leaderJoin {
	out := make([]leaderJoin, 0, len(js))
	for _, j := range js {
		out = append(out, leaderJoin{ID: j.ID, Name: j.Name, Phone: groupbuy.MaskPhone(j.Phone), Building: j.Building, Qty: j.Qty,
			Amount: j.Amount, Status: j.Status, PaidAt: j.PaidAt, PickedUpAt: j.PickedUpAt, PickedUpFor: j.PickedUpFor})
	}
	return out
}

// listGroupBuyJoins is GET {c}/groupbuys/{id}/joins (by building).
func (s *Server) listGroupBuyJoins(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	js, err := s.gb.Joins(c.UserContext(), s.db, camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(page[leaderJoin]{Items: leaderJoins(js)})
}
