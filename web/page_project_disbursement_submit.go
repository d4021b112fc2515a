package web

import (
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// pageProjectDisbursementSubmit pays project money from the project page,
// with the voucher photo uploaded in the same form, once per form.
func (s *Server) pageProjectDisbursementSubmit(c *fiber.Ctx) error {
	amount, err := money.ParsePositive("amount", strings.TrimSpace(c.FormValue("amount")))
	if err != nil {
		return s.projectFormError(c, err)
	}
	in := fund.DisbursementInput{Amount: amount, Payee: strings.Clone(strings.TrimSpace(c.FormValue("payee"))),
		Memo: strings.Clone(strings.TrimSpace(c.FormValue("memo"))), CreatedBy: currentUser(c).ID}
	if fh, err := c.FormFile("voucher"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		in.Voucher, err = io.ReadAll(io.LimitReader(f, 8<<20+1))
		f.Close()
		if err != nil {
			return err
		}
		if in.VoucherType = imageType(in.Voucher); in.VoucherType == "" {
			return s.projectFormError(c, apperr.Field("voucher", "the voucher must be a JPEG or PNG photo"))
		}
	}
	cid, pid := community(c).ID, param(c, "id")
	err = s.formOnce(c, func(tx *sqlx.Tx) error {
		_, _, err := s.fundLedger().Disburse(c.UserContext(), tx, cid, pid, in)
		return err
	})
	if err != nil {
		return s.projectFormError(c, err)
	}
	return c.Redirect("/admin/"+cid+"/projects/"+pid, fiber.StatusSeeOther)
}
