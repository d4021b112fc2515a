package web

import "github.com/gofiber/fiber/v2"

// listDevices is GET {c}/devices.
func (s *Server) listDevices(c *fiber.Ctx) error {
	ds, err := s.pos.svc.Devices(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ds, "next_cursor": nil})
}
