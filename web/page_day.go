package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/reconcile"
)

// dayView is what templates/day.html shows.
type dayView struct {
	CommunityID string
	Day         *reconcile.Day
	Done        string
	Error       string
	ErrorDetail string
	Sandbox     bool
	IsAdmin     bool
	Today       string
}

// pageDay is GET /admin/{cid}/days/{date}: the day top to bottom — status,
// totals, issues to resolve, shifts, statements (with the import form),
// then the close button (UX.md "The laptop pages").
func (s *Server) pageDay(c *fiber.Ctx) error {
	return s.renderDay(c, nil)
}

func (s *Server) renderDay(c *fiber.Ctx, actionErr error) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	d, err := s.rec.Day(c.UserContext(), community(c).ID, date)
	if err != nil {
		return err
	}
	loc := community(c).Location()
	for i := range d.Shifts {
		d.Shifts[i].OpenedAt = d.Shifts[i].OpenedAt.In(loc)
		if d.Shifts[i].ClosedAt != nil {
			t := d.Shifts[i].ClosedAt.In(loc)
			d.Shifts[i].ClosedAt = &t
		}
	}
	l := lang(c)
	for i := range d.Issues {
		is := &d.Issues[i]
		args := make([]any, len(is.Params))
		for j, a := range is.Params {
			if strings.HasPrefix(a, "@") {
				a = s.ui.t(l, a[1:])
			}
			args[j] = a
		}
		is.Detail = s.ui.t(l, "day.hint."+is.Kind, args...)
	}
	u := currentUser(c)
	v := dayView{CommunityID: community(c).ID, Day: d, Done: c.Query("done"), Sandbox: s.cfg.Sandbox,
		IsAdmin: u.Role == "admin" || u.Role == "platform_admin", Today: reconcile.Today(time.Now(), loc)}
	if actionErr != nil {
		code := string(apperr.CodeOf(actionErr))
		if code == string(apperr.Internal) {
			return actionErr
		}
		v.Error = s.ui.messageOr(l, "day.error."+code, s.ui.t(l, "day.error.invalid"))
		if e, ok := apperr.As(actionErr); ok {
			v.ErrorDetail = e.Message
		}
		if st, ok := status[apperr.CodeOf(actionErr)]; ok {
			c.Status(st)
		}
	}
	return s.render(c, "day", "day.title", v)
}
