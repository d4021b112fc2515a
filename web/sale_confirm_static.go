package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/pos"
)

// confirmStaticSale is POST {c}/sales/{id}/confirm-static: the volunteer
// saw the money arrive on the community's fixed 收款码. A sale that expired or
// was cancelled meanwhile cannot complete: its money is booked and held for
// the treasurer (the answer carries "held"), never refused.
func (s *Server) confirmStaticSale(c *fiber.Ctx) error {
	cid, id, user := community(c).ID, c.Params("id"), currentUser(c)
	var sale *pos.Sale
	var out pos.Outcome
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		sale, out, err = s.pos.svc.ConfirmStatic(c.UserContext(), tx, cid, id, user.ID)
		return
	})
	if err != nil {
		return err
	}
	v := s.saleView(sale)
	if out.Kind == pos.HeldInSuspense && out.Suspense != nil {
		v.Held = &heldJSON{ID: out.Suspense.ID, Reason: out.Suspense.Reason, Amount: out.Suspense.Amount}
	}
	return c.JSON(v)
}
