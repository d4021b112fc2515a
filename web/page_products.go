package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// productsPage is the catalogue with a form for a new product.
type productsPage struct {
	invPageData
	All  []inventory.Product
	Form inventory.ProductInput
}

// pageProducts lists the catalogue, variants together, with a form to add one.
func (s *Server) pageProducts(c *fiber.Ctx) error {
	return s.renderProducts(c, inventory.ProductInput{}, "", fiber.StatusOK)
}

func (s *Server) renderProducts(c *fiber.Ctx, form inventory.ProductInput, msg string, st int) error {
	base, err := s.invPage(c, false)
	if err != nil {
		return err
	}
	all, err := s.inv.Products(c.UserContext(), s.db, community(c).ID, false)
	if err != nil {
		return err
	}
	base.Error = msg
	c.Status(st)
	return s.render(c, "inv_products", "inv.products", productsPage{invPageData: base, All: all, Form: form})
}
