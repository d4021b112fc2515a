package web

import "github.com/gofiber/fiber/v2"

// listUsers lists the community's users (admin).
func (s *Server) listUsers(c *fiber.Ctx) error {
	us, err := s.ids.Users(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(newPage(us, len(us)+1, nil))
}
