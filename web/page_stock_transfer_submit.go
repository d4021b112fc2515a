package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

// pageStockTransferSubmit books the transfer form (once per form).
func (s *Server) pageStockTransferSubmit(c *fiber.Ctx) error {
	in := inventory.TransferInput{FromLocationID: formValue(c, "from_location_id"), ToLocationID: formValue(c, "to_location_id"),
		Note: formValue(c, "note"), UserID: userRef(c)}
	pids, qtys := formValues(c, "product_id"), formValues(c, "qty")
	var err error
	for i := range pids {
		pid := at(pids, i)
		if pid == "" && at(qtys, i) == "" {
			continue
		}
		var q int
		if q, err = formQty(at(qtys, i), fmt.Sprintf("lines[%d].qty", len(in.Lines))); err != nil {
			break
		}
		in.Lines = append(in.Lines, inventory.Line{ProductID: pid, Qty: q})
	}
	if err == nil && len(in.Lines) == 0 {
		err = apperr.Field("lines", "choose at least one product and its quantity")
	}
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
