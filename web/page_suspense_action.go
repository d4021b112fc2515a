package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// pageSuspenseAction is POST /admin/{cid}/suspense/{id}: the treasurer
// refunds held money (action=refund, after ticking that the statement was
// checked) or completes its sale (action=complete).
func (s *Server) pageSuspenseAction(c *fiber.Ctx) error {
	ctx, cid, id, user := c.UserContext(), community(c).ID, param(c, "id"), currentUser(c)
	action := formValue(c, "action")
	var err error
	switch action {
	case "refund":
		if formValue(c, "checked") != "yes" {
			return apperr.Field("checked", "tick that you checked the statement before giving the money back").Say("err.susp.checked")
		}
		err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
			_, err := s.pos.svc.RefundHeld(ctx, tx, cid, id, user.ID)
			return err
		})
	case "complete":
		err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
			_, err := s.pos.svc.CompleteHeld(ctx, tx, cid, id, user.ID)
			return err
		})
	default:
		return apperr.Field("action", "choose refund or complete").Say("err.susp.action")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+cid+"/suspense?done="+action, fiber.StatusSeeOther)
}
