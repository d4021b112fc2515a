package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// createStockReceipt books stock arriving at a location, once per
// Idempotency-Key.
func (s *Server) createStockReceipt(c *fiber.Ctx) error {
	var in inventory.ReceiptInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		op, err := s.inv.Receive(c.UserContext(), tx, community(c).ID, in)
		return fiber.StatusCreated, op, err
	})
}
