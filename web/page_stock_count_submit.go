package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// pageStockCountSubmit books a count; with "return_to_store" checked at a
// stall, what is left is carried back to the store in the same transaction.
func (s *Server) pageStockCountSubmit(c *fiber.Ctx) error {
	loc := formValue(c, "location_id")
	pids, counted := formValues(c, "product_id"), formValues(c, "counted")
	var lines []inventory.CountLine
	var err error
	for i := range pids {
		var n int
		if n, err = formQty(at(counted, i), fmt.Sprintf("lines[%d].counted", i)); err != nil {
			break
		}
		lines = append(lines, inventory.CountLine{ProductID: at(pids, i), Counted: n})
	}
	back := formValue(c, "return_to_store") != ""
	if err == nil {
		err = s.pageIdem(c, func(tx *sqlx.Tx) error {
			if back {
				_, err := s.inv.CloseStall(c.UserContext(), tx, community(c).ID, inventory.StallCloseInput{
					StallID: loc, StoreID: formValue(c, "store_id"), Lines: lines, UserID: userRef(c)})
				return err
			}
			_, err := s.inv.Count(c.UserContext(), tx, community(c).ID, inventory.CountInput{LocationID: loc, Lines: lines, UserID: userRef(c)})
			return err
		})
	}
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderCount(c, msg, st)
	}
	done := "counted"
	if back {
		done = "returned"
	}
	return c.Redirect(invPath(c, "/stock/movements?done="+done+"&location_id="+loc), fiber.StatusSeeOther)
}
