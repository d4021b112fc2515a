package web

import (
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/orders/payment"
)

// putStaticQR is PUT {c}/payment-settings/static (multipart "image"): the
// community's fixed 收款码, PNG or JPEG.
func (s *Server) putStaticQR(c *fiber.Ctx) error {
	fh, err := c.FormFile("image")
	if err != nil {
		return apperr.Field("image", "upload the 收款码 as the multipart field \"image\"")
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
	cid, user := community(c).ID, currentUser(c)
	if err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		return payment.SaveStaticImage(c.UserContext(), tx, cid, "", b, user.ID)
	}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true, "bytes": len(b)})
}
