package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/pos"
)

type shiftCloseRequest struct {
	CountedCash *money.Amount `json:"counted_cash"`
	// HandoverTo opens the next shift for this user with the counted cash as float.
	HandoverTo string `json:"handover_to"`
}

// closeShift is POST {c}/shifts/{id}/close: count the drawer; the variance
// is kept. With handover_to the next volunteer's shift opens at once.
func (s *Server) closeShift(c *fiber.Ctx) error {
	var req shiftCloseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.CountedCash == nil {
		return apperr.Field("counted_cash", "count the cash in the drawer first")
	}
	cid, id, user, dev := community(c).ID, c.Params("id"), currentUser(c), s.deviceID(c)
	var closed, next *pos.Shift
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		if req.HandoverTo != "" {
			closed, next, err = s.pos.svc.Handover(c.UserContext(), tx, cid, id, *req.CountedCash, user.ID, req.HandoverTo, dev)
			return
		}
		closed, err = s.pos.svc.Close(c.UserContext(), tx, cid, id, *req.CountedCash, user.ID)
		return
	})
	if err != nil {
		return err
	}
	out := fiber.Map{"id": closed.ID, "expected_cash": closed.ExpectedCash, "counted_cash": closed.CountedCash, "variance": closed.Variance,
		"opening_float": closed.OpeningFloat, "cash_sales": closed.CashSales, "cash_refunds": closed.CashRefunds}
	if next != nil {
		out["next_shift"] = next
	}
	return c.JSON(out)
}
