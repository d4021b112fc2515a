package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// productEditPage is one product with its picture and price history.
type productEditPage struct {
	invPageData
	Product  inventory.Product
	ImageURL string
	History  []inventory.PriceChange
}

// pageProductEdit shows a product's edit form, picture and price history.
func (s *Server) pageProductEdit(c *fiber.Ctx) error {
	return s.renderProductEdit(c, "", fiber.StatusOK)
}

func (s *Server) renderProductEdit(c *fiber.Ctx, msg string, st int) error {
	base, err := s.invPage(c, false)
	if err != nil {
		return err
	}
	p, err := s.inv.Product(c.UserContext(), s.db, community(c).ID, param(c, "id"))
	if err != nil {
		return err
	}
	h, err := s.inv.PriceHistory(c.UserContext(), s.db, community(c).ID, p.ID)
	if err != nil {
		return err
	}
	d := productEditPage{invPageData: base, Product: p, History: h}
	if p.ImageHash != nil {
		d.ImageURL = imageURL(*p.ImageHash)
	}
	d.Error = msg
	c.Status(st)
	return s.render(c, "inv_product", "inv.product.title", d)
}
