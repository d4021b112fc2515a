package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// pageStockReceiveSubmit books the receive form (once per form).
func (s *Server) pageStockReceiveSubmit(c *fiber.Ctx) error {
	in := inventory.ReceiptInput{LocationID: formValue(c, "location_id"), Note: formValue(c, "note"), UserID: userRef(c)}
	codes, bbs := formValues(c, "lot_code"), formValues(c, "best_before")
	var err error
	in.Lines, err = formLines(c, func(i int, pid string, q int) inventory.ReceiptLine {
		return inventory.ReceiptLine{ProductID: pid, Qty: q, LotCode: at(codes, i), BestBefore: at(bbs, i)}
	})
	if err == nil {
		err = s.pageIdem(c, func(tx *sqlx.Tx) error {
			_, err := s.inv.Receive(c.UserContext(), tx, community(c).ID, in)
			return err
		})
	}
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderStockForm(c, "inv_receive", "inv.receive", msg, st)
	}
	return c.Redirect(invPath(c, "/stock?done=received"), fiber.StatusSeeOther)
}
