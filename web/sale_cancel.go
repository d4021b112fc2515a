package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/pos"
)

// cancelSale is POST {c}/sales/{id}/cancel (awaiting payment only).
func (s *Server) cancelSale(c *fiber.Ctx) error {
	cid, id, user := community(c).ID, c.Params("id"), currentUser(c)
	var sale *pos.Sale
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		sale, err = s.pos.svc.Cancel(c.UserContext(), tx, cid, id, user.ID)
		return
	})
	if err != nil {
		return err
	}
	return c.JSON(s.saleView(sale))
}
