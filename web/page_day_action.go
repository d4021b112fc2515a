package web

import (
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/reconcile"
)

// pageDayAction is POST /admin/{cid}/days/{date}: the day page's forms —
// action=import (a statement file), sandbox (download the sandbox's
// statement), resolve (an issue, with a note and an optional adjustment),
// static (tick a 收款码 sale off against a statement row), close, reopen
// (admin, with a reason). Success goes back to the day page; an error is
// shown on it in the reader's language.
func (s *Server) pageDayAction(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	ctx, cid, user := c.UserContext(), community(c).ID, currentUser(c)
	action := formValue(c, "action")
	switch action {
	case "import":
		err = func() error {
			fh, err := c.FormFile("file")
			if err != nil {
				return apperr.Field("file", "choose the statement file")
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
			if formValue(c, "provider") == "sandbox" && !s.cfg.Sandbox {
				return apperr.Field("provider", "the sandbox provider is off")
			}
			_, err = s.rec.Import(ctx, reconcile.ImportInput{CommunityID: cid, Provider: formValue(c, "provider"), Filename: fh.Filename, Data: data,
				Day: date, UserID: user.ID})
			return err
		}()
	case "sandbox":
		if !s.cfg.Sandbox {
			return apperr.NotFoundf("no such page")
		}
		_, err = s.rec.ImportSandbox(ctx, cid, date, user.ID)
	case "resolve", "acknowledge":
		r := reconcile.Resolution{CommunityID: cid, Day: date, IssueKey: formValue(c, "issue_key"), Action: "acknowledged", Note: formValue(c, "note"), UserID: user.ID}
		if action == "resolve" {
			r.Action = "resolved"
		}
		if a := strings.TrimSpace(formValue(c, "adjustment")); a != "" {
			if r.Adjustment, err = money.ParseField("adjustment", a); err != nil {
				break
			}
			r.Action = "resolved"
		}
		err = s.rec.Resolve(ctx, r)
	case "static":
		line, _ := strconv.Atoi(formValue(c, "line"))
		_, err = s.rec.MatchStatic(ctx, cid, formValue(c, "statement_id"), line, formValue(c, "payment_id"))
	case "close":
		_, err = s.rec.Close(ctx, cid, date, user.ID)
	case "reopen":
		if user.Role != "admin" && user.Role != "platform_admin" {
			return apperr.New(apperr.Forbidden, "only an admin reopens a closed day")
		}
		err = s.rec.Reopen(ctx, cid, date, user.ID, formValue(c, "reason"))
	default:
		err = apperr.Field("action", "unknown action")
	}
	if err != nil {
		return s.renderDay(c, err)
	}
	return c.Redirect("/admin/"+cid+"/days/"+date+"?done="+action, fiber.StatusSeeOther)
}
