package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// closeStall is the evening flow: count the stall, then carry what is left
// back to the store, in one step.
func (s *Server) closeStall(c *fiber.Ctx) error {
	var in inventory.StallCloseInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		res, err := s.inv.CloseStall(c.UserContext(), tx, community(c).ID, in)
		return fiber.StatusCreated, res, err
	})
}
