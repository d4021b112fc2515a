package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/money"
)

// traceView is what templates/trace.html shows.
type traceView struct {
	Community identity.Community
	Trace     fund.SourceTrace
	Refunded  money.Amount
	Lots      []traceLotView
}

type traceLotView struct {
	fund.LotTrace
	Label string
}

// pageTrace is the public "where did my money go" page of one receipt
// (/t/{token}; the token is printed on the receipt as a QR code): the fund
// part of the purchase, its earmarks, and the projects it went to.
func (s *Server) pageTrace(c *fiber.Ctx) error {
	cid, t, err := s.fundLedger().TraceByToken(c.UserContext(), s.db, param(c, "token"))
	if err != nil {
		return err
	}
	com, err := s.ids.Community(c.UserContext(), cid)
	if err != nil {
		return err
	}
	v := traceView{Community: com, Trace: t}
	lg := lang(c)
	for _, lt := range t.Lots {
		v.Refunded = v.Refunded.Add(lt.Original.Sub(lt.Amount))
		v.Lots = append(v.Lots, traceLotView{lt, earmarkLabel(lg, lt.Earmark)})
	}
	c.Set("X-Robots-Tag", "noindex")
	return s.render(c, "trace", "fund.trace.title", v)
}
