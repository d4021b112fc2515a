package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// pagePOSAdminStall is POST /admin/{cid}/pos/stalls: set a stall's prefix.
func (s *Server) pagePOSAdminStall(c *fiber.Ctx) error {
	cid := community(c).ID
	loc, prefix := strings.Clone(c.FormValue("location_id")), strings.ToUpper(strings.TrimSpace(c.FormValue("prefix")))
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		_, err := s.pos.svc.SetupStall(c.UserContext(), tx, cid, loc, prefix)
		return err
	})
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		return s.renderPOSAdmin(c, nil, e.Message, "")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+cid+"/pos?done=stall", fiber.StatusSeeOther)
}
