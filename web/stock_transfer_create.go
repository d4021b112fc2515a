package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// createStockTransfer moves stock between locations, once per
// Idempotency-Key; more than is available is 409 insufficient_stock.
func (s *Server) createStockTransfer(c *fiber.Ctx) error {
	var in inventory.TransferInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		op, err := s.inv.Transfer(c.UserContext(), tx, community(c).ID, in)
		return fiber.StatusCreated, op, err
	})
}
