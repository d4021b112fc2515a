package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// pageStockThreshold sets a low-stock threshold from the stock page.
func (s *Server) pageStockThreshold(c *fiber.Ctx) error {
	n, err := formQty(formValue(c, "low_threshold"), "low_threshold")
	if err == nil {
		err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
			return s.inv.SetThreshold(c.UserContext(), tx, community(c).ID, formValue(c, "product_id"), formValue(c, "location_id"), n)
		})
	}
	if err != nil {
		return err
	}
	return c.Redirect(invPath(c, "/stock?done=threshold"), fiber.StatusSeeOther)
}
