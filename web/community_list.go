package web

import "github.com/gofiber/fiber/v2"

// listCommunities lists every community (platform admin).
func (s *Server) listCommunities(c *fiber.Ctx) error {
	cs, err := s.ids.Communities(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(newPage(cs, len(cs)+1, nil))
}
