package web

import "github.com/gofiber/fiber/v2"

// listStalls is GET {c}/stalls.
func (s *Server) listStalls(c *fiber.Ctx) error {
	st, err := s.pos.svc.Stalls(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": st, "next_cursor": nil})
}
