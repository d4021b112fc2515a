package main

import (
	"testing"

	"shelin/fund"
	"shelin/internal/money"
)

// The demo reproduces the reported state of the Wuhan Road fund: 2万余元
// injected, 21 projects landed, about 14万元 leveraged, 5,500+ residents
// benefited, with a sound ledger.
func TestDemoFundMatchesTheReport(t *testing.T) {
	ctx, _, d, com := seededDemo(t)
	l := fund.New(d)
	tr, err := l.PublicTransparency(ctx, d, com.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := tr.Headline
	t.Logf("headline %+v; fund %+v", h, tr.Summary)
	between := func(a money.Amount, lo, hi string) bool {
		return !a.LessThan(money.MustParse(lo)) && !a.GreaterThan(money.MustParse(hi))
	}
	if !between(h.FundInjected, "20000", "24000") {
		t.Errorf("fund injected %s, want 2万余元", h.FundInjected)
	}
	if h.ProjectsLanded != 21 {
		t.Errorf("%d projects landed, want 21", h.ProjectsLanded)
	}
	if !between(h.MoneyLeveraged, "130000", "150000") {
		t.Errorf("money leveraged %s, want about 14万元", h.MoneyLeveraged)
	}
	if h.ResidentsBenefited < 5500 {
		t.Errorf("%d residents benefited, want 5,500+", h.ResidentsBenefited)
	}
	v, err := l.Verify(ctx, com.ID)
	if err != nil || !v.OK {
		t.Fatalf("verify: %v %+v", err, v)
	}
}
