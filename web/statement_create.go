package web

import (
	"io"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/reconcile"
)

// createStatement is POST {c}/statements (multipart "file" and "provider":
// wechatpay, alipay or sandbox; optional "day"): parsed, matched and the
// matched money settled to the bank.
func (s *Server) createStatement(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.Field("file", "upload the statement as the multipart field \"file\"")
	}
	if fh.Size > reconcile.MaxStatementBytes {
		return apperr.Field("file", "the statement is too large")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, reconcile.MaxStatementBytes+1))
	if err != nil {
		return err
	}
	if c.FormValue("provider") == "sandbox" && !s.cfg.Sandbox {
		return apperr.Field("provider", "the sandbox provider is off")
	}
	res, err := s.rec.Import(c.UserContext(), reconcile.ImportInput{CommunityID: community(c).ID, Provider: c.FormValue("provider"),
		Filename: fh.Filename, Data: data, Day: c.FormValue("day"), UserID: currentUser(c).ID})
	if err != nil {
		return err
	}
	st := fiber.StatusCreated
	if res.Replay {
		st = fiber.StatusOK
	}
	return c.Status(st).JSON(res)
}
