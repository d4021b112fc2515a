package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/pos"
)

// currentShift is GET {c}/shifts/current?location_id=: the open shift of a
// stall with its drawer so far (the expected cash is left out of a blind
// shift for volunteers).
func (s *Server) currentShift(c *fiber.Ctx) error {
	sh, err := s.pos.svc.CurrentShift(c.UserContext(), s.db, community(c).ID, c.Query("location_id"))
	if err != nil {
		return err
	}
	d, err := pos.DrawerOf(c.UserContext(), s.db, sh)
	if err != nil {
		return err
	}
	out := fiber.Map{"shift": sh}
	if !sh.Blind || currentUser(c).Role != "volunteer" {
		out["drawer"] = d
	}
	return c.JSON(out)
}
