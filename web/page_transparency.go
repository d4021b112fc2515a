package web

import (
	"html/template"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/money"
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
	// Headline figures with thousands separators: ¥20,403.21, 5,590.
	Injected, Leveraged, Benefited string
}

// groupedYuan formats a large amount for reading: ¥20,403.21.
func groupedYuan(a money.Amount) string {
	s := a.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	return sign + "¥" + groupDigits(whole) + "." + frac
}

func groupDigits(d string) string {
	var b strings.Builder
	for i, r := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
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
	v.Injected, v.Leveraged = groupedYuan(t.Headline.FundInjected), groupedYuan(t.Headline.MoneyLeveraged)
	v.Benefited = groupDigits(strconv.Itoa(t.Headline.ResidentsBenefited))
	for _, e := range v.Fund.Earmarks {
		v.Earmarks = append(v.Earmarks, earmarkView{Name: e.Name, Label: earmarkLabel(lg, e.Name), Balance: e.Balance})
	}
	return s.render(c, "transparency", "fund.title", v)
}
