package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/inventory"
)

// pageProductCreate adds a product from the catalogue page's form.
func (s *Server) pageProductCreate(c *fiber.Ctx) error {
	track := formValue(c, "track_stock") != ""
	in := inventory.ProductInput{
		SKU: formValue(c, "sku"), Name: formValue(c, "name"), GroupName: formValue(c, "group_name"), NameEn: formValue(c, "name_en"),
		Price: formValue(c, "price"), UnitCost: formValue(c, "unit_cost"), Barcode: formValue(c, "barcode"),
		TrackStock: &track, Perishable: formValue(c, "perishable") != "",
		MakerName: formValue(c, "maker_name"), MakerSharePercent: formValue(c, "maker_share_percent"), UserID: userRef(c),
	}
	var p inventory.Product
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.inv.CreateProduct(c.UserContext(), tx, community(c).ID, in)
		return err
	})
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderProducts(c, in, msg, st)
	}
	return c.Redirect(invPath(c, "/products/"+p.ID+"?done=created"), fiber.StatusSeeOther)
}
