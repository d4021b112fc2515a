package web

import "github.com/gofiber/fiber/v2"

// getSale is GET {c}/sales/{id}.
func (s *Server) getSale(c *fiber.Ctx) error {
	v, err := s.saleOf(c.UserContext(), s.db, community(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}
