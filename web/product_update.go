package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/inventory"
)

// updateProduct changes some fields of a product; price, cost and maker
// share changes are kept in its price history.
func (s *Server) updateProduct(c *fiber.Ctx) error {
	var in inventory.ProductPatch
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	var p inventory.Product
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.inv.UpdateProduct(c.UserContext(), tx, community(c).ID, param(c, "id"), in)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(toProductJSON(p))
}
