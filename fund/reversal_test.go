package fund_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
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
	for k, b := range balances(t, ctx, d, l, cid) {
		if !b.IsZero() {
			t.Errorf("account %s = %s after a full refund", k, b)
		}
	}
	got, err := l.SaleFund(ctx, d, cid, fund.SourceSale, "o1")
	if err != nil {
		t.Fatal(err)
	}
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
	s, err := l.FundSummary(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Available.IsZero() || s.Deficit.String() != "30.00" || s.Committed.String() != "80.00" || s.InflowTotal.String() != "50.00" {
		t.Fatalf("summary %+v", s)
	}
	accts, err := l.Accounts(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Kind == fund.KindEarmark && a.Balance.IsNegative() {
			t.Fatalf("fund earmark went negative silently: %+v", a)
		}
		if a.Kind == fund.KindFundDeficit && a.Balance.String() != "30.00" {
			t.Fatalf("deficit account %s, want 30.00", a.Balance)
		}
	}
	st, err := l.TraceSource(ctx, d, cid, fund.SourceSale, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lots) != 1 || len(st.Lots[0].Allocations) != 1 {
		t.Fatalf("trace %+v", st)
	}
	lt := st.Lots[0]
	if st.NetProceeds.String() != "50.00" || lt.Amount.String() != "50.00" || lt.Deficit.String() != "30.00" || lt.Allocations[0].Amount.String() != "80.00" {
		t.Fatalf("trace %+v", st)
	}
	mustVerify(t, ctx, l, cid)
}

// paintingAndPastry posts the worked example of the design: a painting ¥100
// (its maker's share 80, no cost) and a peony pastry ¥38 (cost 20) in one
// cash sale; the fund gets 38 (20 from the painting line, 18 from the pastry).
func paintingAndPastry(t *testing.T, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid string) {
	t.Helper()
	p := fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", SourceRef: "WH-0001",
		DebitAccount: fund.CashDrawer(stall), Gross: m("138.00"), SupplierCost: m("20.00"), MakerShare: m("80.00"),
		Makers: []fund.MakerPart{{Name: "画家 田老师", Amount: m("80.00")}}}
	if got := post(t, ctx, d, l, p); got.Net.String() != "38.00" {
		t.Fatalf("fund part %s, want 38.00", got.Net)
	}
}

const stall = "11111111-2222-3333-4444-555555555555"

func wantBalances(t *testing.T, got map[string]money.Amount, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k].String() != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
}

// Refunding only the pastry, returned to stock: its cost comes back to the
// supplier and its fund share (18) leaves the fund; the painting's money is
// untouched.
func TestRefundOneLineRestocked(t *testing.T) {
	ctx, d, l, cid := setup(t)
	paintingAndPastry(t, ctx, d, l, cid)
	got, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-pastry",
		Gross: m("38.00"), Parts: &fund.ReversalParts{SupplierCost: m("20.00"), Fund: m("18.00")}}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Net.String() != "18.00" || !got.WriteOff.IsZero() || !got.Deficit.IsZero() {
		t.Fatalf("reversal %+v", got)
	}
	wantBalances(t, balances(t, ctx, d, l, cid), map[string]string{
		"maker_payable:画家 田老师": "80.00", "supplier_payable:": "0.00", "fund_earmark:general": "20.00",
		"cash_drawer:" + stall: "100.00", "fund_deficit:": "0.00",
	})
	sf, err := l.SaleFund(ctx, d, cid, fund.SourceSale, "o-pp")
	if err != nil {
		t.Fatal(err)
	}
	if sf.Net.String() != "20.00" {
		t.Fatalf("the sale's fund part after the refund: %s, want 20.00", sf.Net)
	}
	mustVerify(t, ctx, l, cid)
}

// The same refund when the pastry is not returned (damaged): the supplier is
// still owed its cost, the fund gives back the pastry's share (18) and the
// remaining 20 is a write-off on fund_deficit, visible to the treasurer.
func TestRefundOneLineNotRestockedWritesOff(t *testing.T) {
	ctx, d, l, cid := setup(t)
	paintingAndPastry(t, ctx, d, l, cid)
	r := fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-pastry",
		Gross: m("38.00"), Parts: &fund.ReversalParts{Fund: m("18.00"), WriteOff: m("20.00")}}
	got, err := tx(t, ctx, d, reverse(t, l, r))
	if err != nil {
		t.Fatal(err)
	}
	if got.Net.String() != "18.00" || got.WriteOff.String() != "20.00" {
		t.Fatalf("reversal %+v", got)
	}
	again, err := tx(t, ctx, d, reverse(t, l, r))
	if err != nil || again.EntryID != got.EntryID || again.WriteOff.String() != "20.00" {
		t.Fatalf("replay: %v %+v", err, again)
	}
	other := r
	other.Gross = m("18.00")
	other.Parts = &fund.ReversalParts{Fund: m("18.00")}
	if _, err := tx(t, ctx, d, reverse(t, l, other)); !apperr.Is(err, apperr.IdempotencyConflict) {
		t.Fatalf("the same refund id for another amount: %v", err)
	}
	wantBalances(t, balances(t, ctx, d, l, cid), map[string]string{
		"maker_payable:画家 田老师": "80.00", "supplier_payable:": "20.00", "fund_earmark:general": "20.00",
		"fund_deficit:": "20.00", "cash_drawer:" + stall: "100.00",
	})
	st, err := l.TraceSource(ctx, d, cid, fund.SourceSale, "o-pp")
	if err != nil {
		t.Fatal(err)
	}
	if st.NetProceeds.String() != "20.00" || st.WriteOff.String() != "20.00" {
		t.Fatalf("trace %+v", st)
	}
	var wo money.Amount
	if err := d.Get(&wo, `SELECT write_off FROM fund_reversals WHERE community_id = $1 AND reversal_id = 'rf-pastry'`, cid); err != nil || wo.String() != "20.00" {
		t.Fatalf("fund_reversals.write_off %s: %v", wo, err)
	}
	mustVerify(t, ctx, l, cid)
}

// Explicit parts are refused, with nothing written, when they do not add up
// or take back more than a posting still holds.
func TestRefundPartsRefusedWhenTheyDoNotFit(t *testing.T) {
	ctx, d, l, cid := setup(t)
	paintingAndPastry(t, ctx, d, l, cid)
	// The painting refunded and restocked: the maker's 80 and the fund's 20.
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-1",
		Gross: m("100.00"), Parts: &fund.ReversalParts{Makers: []fund.MakerPart{{Name: "画家 田老师", Amount: m("80.00")}}, Fund: m("20.00")}})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, field string
		gross       string
		parts       fund.ReversalParts
	}{
		{"parts do not add up", "parts", "38.00", fund.ReversalParts{SupplierCost: m("20.00"), Fund: m("17.00")}},
		{"negative part", "parts.write_off", "18.00", fund.ReversalParts{Fund: m("20.00"), WriteOff: m("-2.00")}},
		{"maker already paid back", "parts.makers[0]", "1.00", fund.ReversalParts{Makers: []fund.MakerPart{{Name: "画家 田老师", Amount: m("1.00")}}}},
		{"unknown maker", "parts.makers[0]", "1.00", fund.ReversalParts{Makers: []fund.MakerPart{{Name: "someone", Amount: m("1.00")}}}},
		{"more cost than posted", "parts.supplier_cost", "21.00", fund.ReversalParts{SupplierCost: m("21.00")}},
		{"more fund than left", "parts.fund", "19.00", fund.ReversalParts{Fund: m("19.00")}},
		{"no fee was posted", "parts.provider_fee", "1.00", fund.ReversalParts{ProviderFee: m("1.00")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts := c.parts
			_, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp",
				ReversalID: "bad-" + c.name, Gross: m(c.gross), Parts: &parts}))
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || e.Field != c.field {
				t.Fatalf("err %v, want invalid on %s", err, c.field)
			}
		})
	}
	if n := count(t, d, `SELECT count(*) FROM fund_reversals WHERE community_id = $1`, cid); n != 1 {
		t.Fatalf("%d reversals written, want 1", n)
	}
	wantBalances(t, balances(t, ctx, d, l, cid), map[string]string{
		"maker_payable:画家 田老师": "0.00", "supplier_payable:": "20.00", "fund_earmark:general": "18.00", "cash_drawer:" + stall: "38.00",
	})
	mustVerify(t, ctx, l, cid)
}

// A cash refund cannot take more from the drawer than it holds; a provider
// refund waiting for the provider's confirmation is owed to the customer.
func TestRefundCreditAccounts(t *testing.T) {
	ctx, d, l, cid := setup(t)
	paintingAndPastry(t, ctx, d, l, cid)
	// The drawer's cash went to the bank at shift close.
	bankIn(t, ctx, d, l, cid, fund.CashDrawer(stall), "130.00")
	_, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-cash",
		Gross: m("38.00"), Parts: &fund.ReversalParts{SupplierCost: m("20.00"), Fund: m("18.00")}}))
	if !fund.IsOverdraw(err) || !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "holds ¥8.00; it cannot pay ¥38.00") {
		t.Fatalf("cash refund from a drawer holding 8: %v", err)
	}
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-x",
		Gross: m("1.00"), CreditAccount: fund.SupplierPayable()})); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("refund paid from a payable: %v", err)
	}
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o-pp", ReversalID: "rf-wx",
		Gross: m("38.00"), CreditAccount: fund.RefundsPayable(), Parts: &fund.ReversalParts{SupplierCost: m("20.00"), Fund: m("18.00")}})); err != nil {
		t.Fatal(err)
	}
	wantBalances(t, balances(t, ctx, d, l, cid), map[string]string{
		"customer_refunds_payable:": "38.00", "cash_drawer:" + stall: "8.00", "bank:": "130.00", "fund_earmark:general": "20.00",
	})
	mustVerify(t, ctx, l, cid)
}

// Fund parts over several earmarks are split by what each lot still holds,
// and a lot already committed records the shortfall as deficit.
func TestRefundFundPartSplitsOverEarmarkLots(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(25)}, {Name: fund.General, Percent: decimal.NewFromInt(75)}}); err != nil {
		t.Fatal(err)
	}
	post(t, ctx, d, l, sale(cid, "o1", "100.00", "0")) // 25 养老 + 75 general
	pr := propose(t, ctx, d, l, cid, "适老扶手", "养老", "25.00", "25.00")
	if _, err := approve(t, ctx, d, l, cid, pr.ID); err != nil {
		t.Fatal(err)
	}
	got, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "o1", ReversalID: "rf",
		Gross: m("40.00"), Parts: &fund.ReversalParts{Fund: m("40.00")}}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"养老": "10.00", fund.General: "30.00"}
	for _, e := range got.Earmarks {
		if want[e.Name] != e.Amount.String() {
			t.Errorf("earmark %s gave back %s, want %s", e.Name, e.Amount, want[e.Name])
		}
	}
	if got.Deficit.String() != "10.00" { // 养老's lot was all committed
		t.Fatalf("deficit %s, want 10.00", got.Deficit)
	}
	mustVerify(t, ctx, l, cid)
}
