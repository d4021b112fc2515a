package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// putVoucher attaches the voucher photo (multipart "image", JPEG or PNG) of a
// disbursement.
func (s *Server) putVoucher(c *fiber.Ctx) error {
	b, err := formImage(c)
	if err != nil {
		return err
	}
	ct := imageType(b)
	if ct == "" {
		return apperr.Field("image", "the voucher must be a JPEG or PNG photo")
	}
	cid, id := community(c).ID, param(c, "id")
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		return s.fundLedger().SetVoucher(c.UserContext(), tx, cid, id, b, ct)
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id, "voucher_url": voucherURL(cid, id)})
}
