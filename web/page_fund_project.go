package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/money"
)

// projectPageView is what templates/fund_project.html shows.
type projectPageView struct {
	Community     identity.Community
	P             fund.Project
	Trace         fund.ProjectTrace
	Contributions []fund.Contribution
	Disbursements []disbursementJSON
	Error         string
	FormKey       string
	CanApprove    bool // admin
	CanCollect    bool // admin, treasurer, 邻长
	CanDisburse   bool // admin, treasurer
	Open          bool // approved or funded
	FundPct       float64
	ResPct        float64
	Sources       []fund.SourcePart // the first 20 sources of the fund part
	MoreSources   int
	MoreAmount    money.Amount
}

// pageFundProject shows one project: its money, where the fund part came
// from, contributions and disbursements, and the forms for the next step.
func (s *Server) pageFundProject(c *fiber.Ctx) error {
	return s.renderFundProject(c, "")
}

func (s *Server) renderFundProject(c *fiber.Ctx, msg string) error {
	com := community(c)
	l := s.fundLedger()
	id := param(c, "id")
	p, err := l.GetProject(c.UserContext(), s.db, com.ID, id)
	if err != nil {
		return err
	}
	v := projectPageView{Community: com, P: p, Error: msg, FormKey: newFormKey(),
		Open: p.Status == fund.StatusApproved || p.Status == fund.StatusFunded}
	if b, _ := p.Budget.Decimal().Float64(); b > 0 {
		f, _ := p.FundCommitted.Decimal().Float64()
		r, _ := p.Crowdfunded.Decimal().Float64()
		v.FundPct, v.ResPct = 100*f/b, 100*r/b
	}
	if v.Trace, err = l.TraceProject(c.UserContext(), s.db, com.ID, id); err != nil {
		return err
	}
	v.Sources = v.Trace.Sources
	if len(v.Sources) > 20 {
		v.Sources = v.Trace.Sources[:20]
		for _, sp := range v.Trace.Sources[20:] {
			v.MoreSources++
			v.MoreAmount = v.MoreAmount.Add(sp.Amount)
		}
	}
	if v.Contributions, err = l.Contributions(c.UserContext(), s.db, com.ID, id); err != nil {
		return err
	}
	ds, err := l.Disbursements(c.UserContext(), s.db, com.ID, id)
	if err != nil {
		return err
	}
	for _, d := range ds {
		v.Disbursements = append(v.Disbursements, disbursementJSON{Disbursement: d, VoucherURL: voucherURL(com.ID, d.ID)})
	}
	switch currentUser(c).Role {
	case identity.Admin, identity.PlatformAdmin:
		v.CanApprove, v.CanCollect, v.CanDisburse = true, true, true
	case identity.Treasurer:
		v.CanCollect, v.CanDisburse = true, true
	case identity.Leader:
		v.CanCollect = true
	}
	return s.render(c, "fund_project", "fund.projects", v)
}

// projectFormError shows a form's plain error on the project page, or
// passes other errors on.
func (s *Server) projectFormError(c *fiber.Ctx, err error) error {
	var short *fund.ShortError
	if errors.As(err, &short) {
		c.Status(fiber.StatusConflict)
		return s.renderFundProject(c, s.ui.t(lang(c), "fund.err.short."+short.What, short.Have.Yuan(), short.Want.Yuan()))
	}
	if e, ok := apperrOf(err); ok {
		c.Status(statusOf(e))
		return s.renderFundProject(c, e.Message)
	}
	return err
}
