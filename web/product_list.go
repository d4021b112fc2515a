package web

import (
	"github.com/gofiber/fiber/v2"
)

// listProducts lists the community's products, variants together
// (?active=true leaves out inactive ones).
func (s *Server) listProducts(c *fiber.Ctx) error {
	ps, err := s.inv.Products(c.UserContext(), s.db, community(c).ID, c.Query("active") == "true")
	if err != nil {
		return err
	}
	items := make([]productJSON, len(ps))
	for i, p := range ps {
		items[i] = toProductJSON(p)
	}
	return c.JSON(page[productJSON]{Items: items})
}
