package web

import (
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/orders/payment"
)

// pagePOSAdminStatic is POST /admin/{cid}/pos/static: upload the fixed 收款码.
func (s *Server) pagePOSAdminStatic(c *fiber.Ctx) error {
	cid, user := community(c).ID, currentUser(c)
	fh, err := c.FormFile("image")
	if err != nil {
		return s.renderPOSAdmin(c, nil, "请选择收款码图片（PNG 或 JPEG）", "")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2_000_001))
	if err != nil {
		return err
	}
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		return payment.SaveStaticImage(c.UserContext(), tx, cid, "", b, user.ID)
	})
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		return s.renderPOSAdmin(c, nil, e.Message, "")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+cid+"/pos?done=static", fiber.StatusSeeOther)
}
