package fund_test

import (
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
)

func reverse(t testing.TB, l *fund.Ledger, r fund.Reversal) func(tx *sqlx.Tx) (fund.Posted, error) {
	return func(tx *sqlx.Tx) (fund.Posted, error) { return l.ReverseProceeds(t.Context(), tx, r) }
}

func TestPartialRefundsReverseEveryPostingProportionally(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(50)}, {Name: "文化", Percent: decimal.NewFromInt(50)}}); err != nil {
		t.Fatal(err)
	}
	p := sale(cid, "o1", "100.00", "33.33")
	p.MakerShare = m("10.00")
	p.Makers = []fund.MakerPart{{Name: "画家张", Amount: m("10.00")}}
	p.ProviderFee = m("0.60")
	post(t, ctx, d, l, p) // net 56.07: 28.04 养老 + 28.03 文化

	r := fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o1", ReversalID: "rf-1", Gross: m("33.33")}
	first, err := tx(t, ctx, d, reverse(t, l, r))
	if err != nil {
		t.Fatal(err)
	}
	again, err := tx(t, ctx, d, reverse(t, l, r))
	if err != nil || again.EntryID != first.EntryID || !again.Net.Equal(first.Net) {
		t.Fatalf("replayed refund: %v %+v %+v", err, first, again)
	}
	// A third of the sale: about a third of each posting.
	if first.Net.String() != "18.69" {
		t.Fatalf("first refund took %s from the fund, want 18.69", first.Net)
	}
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o1", ReversalID: "rf-2", Gross: m("66.68")})); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("refund over what is left: %v", err)
	}
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o1", ReversalID: "rf-2", Gross: m("66.67")})); err != nil {
		t.Fatal(err)
	}
	// Everything refunded: every account of the sale is back to zero.
	accts, _ := l.Accounts(ctx, d, cid)
	for _, a := range accts {
		if !a.Balance.IsZero() {
			t.Errorf("account %s:%s = %s after a full refund", a.Kind, a.Key, a.Balance)
		}
	}
	got, _ := l.SaleFund(ctx, d, cid, fund.SourceSale, "o1")
	if !got.Net.IsZero() || len(got.Earmarks) != 0 {
		t.Fatalf("sale fund after full refund: %+v", got)
	}
	mustVerify(t, ctx, l, cid)
}

func TestRefundOfSpentMoneyRecordsVisibleDeficit(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "o1", "100.00", "0"))
	pr := propose(t, ctx, d, l, cid, "楼道灯", "", "100.00", "80.00")
	if _, err := approve(t, ctx, d, l, cid, pr.ID); err != nil {
		t.Fatal(err)
	}
	// 20 left in the lot; refunding 50 takes those 20 and records 30 deficit.
	got, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o1", ReversalID: "rf", Gross: m("50.00")}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Net.String() != "50.00" || got.Deficit.String() != "30.00" {
		t.Fatalf("reversal %+v", got)
	}
	s, _ := l.FundSummary(ctx, d, cid)
	if !s.Available.IsZero() || s.Deficit.String() != "30.00" || s.Committed.String() != "80.00" || s.InflowTotal.String() != "50.00" {
		t.Fatalf("summary %+v", s)
	}
	accts, _ := l.Accounts(ctx, d, cid)
	for _, a := range accts {
		if a.Kind == fund.KindEarmark && a.Balance.IsNegative() {
			t.Fatalf("fund earmark went negative silently: %+v", a)
		}
		if a.Kind == fund.KindFundDeficit && a.Balance.String() != "30.00" {
			t.Fatalf("deficit account %s, want 30.00", a.Balance)
		}
	}
	st, _ := l.TraceSource(ctx, d, cid, fund.SourceSale, "o1")
	lt := st.Lots[0]
	if st.NetProceeds.String() != "50.00" || lt.Amount.String() != "50.00" || lt.Deficit.String() != "30.00" || lt.Allocations[0].Amount.String() != "80.00" {
		t.Fatalf("trace %+v", st)
	}
	mustVerify(t, ctx, l, cid)
}
