package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// createWriteOff takes spoiled, expired or broken stock out, with a reason.
// {"location_id","expired":true} writes off every expired lot there.
func (s *Server) createWriteOff(c *fiber.Ctx) error {
	var in struct {
		inventory.WriteOffInput
		Expired bool `json:"expired"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.UserID = userRef(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		if in.Expired {
			op, err := s.inv.WriteOffExpired(c.UserContext(), tx, community(c).ID, in.LocationID, in.UserID)
			if op == nil && err == nil {
				return fiber.StatusOK, fiber.Map{"written_off": false}, nil
			}
			return fiber.StatusCreated, op, err
		}
		op, err := s.inv.WriteOff(c.UserContext(), tx, community(c).ID, in.WriteOffInput)
		return fiber.StatusCreated, op, err
	})
}
