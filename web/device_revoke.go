package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// revokeDevice is POST {c}/devices/{id}/revoke: unpair a lost tablet.
func (s *Server) revokeDevice(c *fiber.Ctx) error {
	cid, id := community(c).ID, c.Params("id")
	if err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		return s.pos.svc.RevokeDevice(c.UserContext(), tx, cid, id)
	}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true})
}
