package web

import (
	"html/template"
	"sort"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
)

// transparencyView is what templates/transparency.html shows.
type transparencyView struct {
	Community identity.Community
	T         fund.Transparency
	Fund      fundJSON
	Earmarks  []earmarkView
	InChart   template.HTML
	OutChart  template.HTML
	MonthsSVG template.HTML
}

// pageTransparency is the public page of a community's fund (/c/{slug}):
// headline figures first, then projects with two-colour progress bars, then
// money in and out and the recent entries, without personal data.
func (s *Server) pageTransparency(c *fiber.Ctx) error {
	com, err := s.ids.CommunityBySlug(c.UserContext(), param(c, "slug"))
	if err != nil {
		return err
	}
	t, err := s.fundLedger().PublicTransparency(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	lg := lang(c)
	in := make([]chartBar, 0, len(t.InBySource))
	for _, b := range t.InBySource {
		in = append(in, chartBar{s.ui.t(lg, "fund.source."+b.Name), b.Amount})
	}
	out := make([]chartBar, 0, len(t.OutByProject))
	for _, b := range t.OutByProject {
		out = append(out, chartBar{b.Name, b.Amount})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Amount.GreaterThan(out[j].Amount) })
	v := transparencyView{Community: com, T: t, Fund: toFundJSON(t.Summary),
		InChart:   barChart(s.ui.t(lg, "fund.in"), in, "#0b5d1e"),
		OutChart:  barChart(s.ui.t(lg, "fund.out"), out, "#b8860b"),
		MonthsSVG: monthChart(s.ui.t(lg, "fund.months"), s.ui.t(lg, "fund.months.in"), s.ui.t(lg, "fund.months.out"), t.Months),
	}
	for _, e := range v.Fund.Earmarks {
		v.Earmarks = append(v.Earmarks, earmarkView{Name: e.Name, Label: earmarkLabel(lg, e.Name), Balance: e.Balance})
	}
	return s.render(c, "transparency", "fund.title", v)
}
