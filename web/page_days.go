package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/money"
	"shelin/reconcile"
)

// daysView is what templates/days.html shows.
type daysView struct {
	CommunityID string
	Days        []reconcile.DaySummary // newest first
	SalesChart  template.HTML
	FundChart   template.HTML
	Totals      struct {
		Sales                  int
		Gross, FundIn, FundOut money.Amount
	}
}

// pageDays is GET /admin/{cid}/days: the treasurer's calendar (status of
// each day, totals, link to the day) with two charts: sales per day and
// fund in and out per day.
func (s *Server) pageDays(c *fiber.Ctx) error {
	from, to, err := calendarRange(c)
	if err != nil {
		return err
	}
	days, err := s.rec.Calendar(c.UserContext(), community(c).ID, from, to)
	if err != nil {
		return err
	}
	l := lang(c)
	v := daysView{CommunityID: community(c).ID}
	for i := len(days) - 1; i >= 0; i-- {
		v.Days = append(v.Days, days[i])
		v.Totals.Sales += days[i].Sales
		v.Totals.Gross = v.Totals.Gross.Add(days[i].Gross)
		v.Totals.FundIn = v.Totals.FundIn.Add(days[i].FundIn)
		v.Totals.FundOut = v.Totals.FundOut.Add(days[i].FundOut)
	}
	recent := days
	if len(recent) > 14 {
		recent = recent[len(recent)-14:]
	}
	v.SalesChart = dayColumns(s.ui.t(l, "days.chart.sales"), []string{s.ui.t(l, "days.sales")}, recent, func(d reconcile.DaySummary) []money.Amount { return []money.Amount{d.Gross} })
	v.FundChart = dayColumns(s.ui.t(l, "days.chart.fund"), []string{s.ui.t(l, "days.fund_in"), s.ui.t(l, "days.fund_out")}, recent,
		func(d reconcile.DaySummary) []money.Amount { return []money.Amount{d.FundIn, d.FundOut} })
	return s.render(c, "days", "days.title", v)
}

// dayColumns draws one column group per day (server-rendered SVG, a legend in words).
func dayColumns(title string, legend []string, days []reconcile.DaySummary, vals func(reconcile.DaySummary) []money.Amount) template.HTML {
	if len(days) == 0 {
		return ""
	}
	colors := []string{"#0b5d1e", "#b8860b"}
	const w, h, top, bottom, left = 700, 240, 30, 40, 10
	max := 0.0
	for _, d := range days {
		for _, a := range vals(d) {
			if f, _ := a.Decimal().Float64(); f > max {
				max = f
			}
		}
	}
	slot := float64(w-2*left) / float64(len(days))
	colW := slot * 0.7 / float64(len(legend))
	plotH := float64(h - top - bottom)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		w, h, html.EscapeString(title), html.EscapeString(title))
	for i, l := range legend {
		fmt.Fprintf(&sb, `<rect x="%d" y="6" width="14" height="14" fill="%s"/><text x="%d" y="18" font-size="15">%s</text>`, 10+i*170, colors[i], 30+i*170, html.EscapeString(l))
	}
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#767676"/>`, left, h-bottom, w-left, h-bottom)
	for i, d := range days {
		x := float64(left) + float64(i)*slot + slot*0.15
		for k, a := range vals(d) {
			f, _ := a.Decimal().Float64()
			bh := 0.0
			if max > 0 {
				bh = f / max * plotH
			}
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s</title></rect>`,
				x+float64(k)*colW, float64(h-bottom)-bh, colW, bh, colors[k%2], d.Day, a.Yuan())
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="13" text-anchor="middle">%s</text>`, x+colW*float64(len(legend))/2, h-bottom+20, d.Day[5:])
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
