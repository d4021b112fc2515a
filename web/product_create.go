package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/inventory"
)

// createProduct adds a product (a SKU; variants share group_name).
func (s *Server) createProduct(c *fiber.Ctx) error {
	var in inventory.ProductInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	var p inventory.Product
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.inv.CreateProduct(c.UserContext(), tx, community(c).ID, in)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toProductJSON(p))
}
