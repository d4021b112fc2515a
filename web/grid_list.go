package web

import "github.com/gofiber/fiber/v2"

// listGrids lists the community's grids.
func (s *Server) listGrids(c *fiber.Ctx) error {
	gs, err := s.ids.Grids(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(newPage(gs, len(gs)+1, nil))
}
