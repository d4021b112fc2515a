package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/inventory"
)

// pageProductUpdate saves the product edit form.
func (s *Server) pageProductUpdate(c *fiber.Ctx) error {
	str := func(name string) *string { v := formValue(c, name); return &v }
	flag := func(name string) *bool { v := formValue(c, name) != ""; return &v }
	pt := inventory.ProductPatch{
		Name: str("name"), GroupName: str("group_name"), NameEn: str("name_en"), Price: str("price"), UnitCost: str("unit_cost"),
		Barcode: str("barcode"), TrackStock: flag("track_stock"), Perishable: flag("perishable"), Active: flag("active"),
		MakerName: str("maker_name"), MakerSharePercent: str("maker_share_percent"), UserID: userRef(c),
	}
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		_, err := s.inv.UpdateProduct(c.UserContext(), tx, community(c).ID, param(c, "id"), pt)
		return err
	})
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderProductEdit(c, msg, st)
	}
	return c.Redirect(invPath(c, "/products/"+param(c, "id")+"?done=saved"), fiber.StatusSeeOther)
}
