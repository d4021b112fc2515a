package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// pageProductImage uploads a product picture from the edit page.
func (s *Server) pageProductImage(c *fiber.Ctx) error {
	data, err := formImage(c)
	if err == nil {
		err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
			_, err := s.inv.SetProductImage(c.UserContext(), tx, community(c).ID, param(c, "id"), data)
			return err
		})
	}
	if err != nil {
		st, msg, err := s.pageError(c, err)
		if err != nil {
			return err
		}
		return s.renderProductEdit(c, msg, st)
	}
	return c.Redirect(invPath(c, "/products/"+param(c, "id")+"?done=image"), fiber.StatusSeeOther)
}
