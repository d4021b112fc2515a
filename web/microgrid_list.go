package web

import "github.com/gofiber/fiber/v2"

// listMicroGrids lists the community's micro-grids.
func (s *Server) listMicroGrids(c *fiber.Ctx) error {
	ms, err := s.ids.MicroGrids(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(newPage(ms, len(ms)+1, nil))
}
