package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// pageStockTransferSubmit books the transfer form (once per form).
func (s *Server) pageStockTransferSubmit(c *fiber.Ctx) error {
	in := inventory.TransferInput{FromLocationID: formValue(c, "from_location_id"), ToLocationID: formValue(c, "to_location_id"),
		Note: formValue(c, "note"), UserID: userRef(c)}
	var err error
	in.Lines, err = formLines(c, func(_ int, pid string, q int) inventory.Line {
		return inventory.Line{ProductID: pid, Qty: q}
	})
	if err == nil {
		err = s.pageIdem(c, func(tx *sqlx.Tx) error {
			_, err := s.inv.Transfer(c.UserContext(), tx, community(c).ID, in)
			return err
		})
	}
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderStockForm(c, "inv_transfer", "inv.transfer", msg, st)
	}
	return c.Redirect(invPath(c, "/stock?done=transferred"), fiber.StatusSeeOther)
}
