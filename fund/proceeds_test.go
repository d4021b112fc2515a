package fund_test

import (
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

func TestPostProceedsSplitsNetByRules(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{
		{Name: "养老", Percent: decimal.NewFromInt(40)},
		{Name: "文化", Percent: decimal.NewFromInt(30)},
		{Name: fund.General, Percent: decimal.NewFromInt(30)},
	}); err != nil {
		t.Fatal(err)
	}
	p := sale(cid, "order-1", "38.00", "20.00")
	p.ProviderFee = m("0.23")
	got := post(t, ctx, d, l, p)
	if got.Net.String() != "17.77" || got.RulesVersion != 1 {
		t.Fatalf("net %s version %d, want 17.77 v1", got.Net, got.RulesVersion)
	}
	want := map[string]string{"养老": "7.11", "文化": "5.33", fund.General: "5.33"}
	for _, e := range got.Earmarks {
		if want[e.Name] != e.Amount.String() {
			t.Errorf("earmark %s = %s, want %s", e.Name, e.Amount, want[e.Name])
		}
	}
	mustVerify(t, ctx, l, cid)
}

func TestPostProceedsDefaultRulesAreGeneral100(t *testing.T) {
	ctx, d, l, cid := setup(t)
	got := post(t, ctx, d, l, sale(cid, "o", "10.00", "4.00"))
	if got.RulesVersion != 0 || len(got.Earmarks) != 1 || got.Earmarks[0].Name != fund.General || got.Earmarks[0].Amount.String() != "6.00" {
		t.Fatalf("got %+v", got)
	}
}

func TestPostProceedsReplayChangesNothing(t *testing.T) {
	ctx, d, l, cid := setup(t)
	first := post(t, ctx, d, l, sale(cid, "order-7", "50.00", "10.00"))
	q := `SELECT count(*) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE e.community_id = $1`
	before := count(t, d, q, cid)
	again := post(t, ctx, d, l, sale(cid, "order-7", "50.00", "10.00")) // the same amounts: the first result
	if again.EntryID != first.EntryID || !again.Net.Equal(first.Net) || again.TraceToken != first.TraceToken {
		t.Fatalf("replay: first %+v again %+v", first, again)
	}
	// Other amounts for the same source: an idempotency conflict, nothing written.
	for name, p := range map[string]fund.Proceeds{
		"gross": sale(cid, "order-7", "99.00", "10.00"),
		"cost":  sale(cid, "order-7", "50.00", "1.00"),
		"account": func() fund.Proceeds {
			p := sale(cid, "order-7", "50.00", "10.00")
			p.DebitAccount = fund.Bank()
			return p
		}(),
	} {
		err := db.InTx(ctx, d, func(tx *sqlx.Tx) error { _, err := l.PostProceeds(ctx, tx, p); return err })
		if !apperr.Is(err, apperr.IdempotencyConflict) {
			t.Fatalf("replay with another %s: %v, want idempotency_conflict", name, err)
		}
	}
	if after := count(t, d, q, cid); before != after {
		t.Fatalf("replays wrote postings: %d → %d", before, after)
	}
	v := mustVerify(t, ctx, l, cid)
	if v.Entries != 1 {
		t.Fatalf("entries %d, want 1", v.Entries)
	}
}

// A cash donation handed to the 邻长 arrives in residents' collected money;
// a payment held in suspense can later be completed as a sale from it.
func TestPostProceedsFromContributionsAndSuspense(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceDonation, SourceID: "don-1", SourceRef: "捐赠",
		DebitAccount: fund.Contributions("cash"), Gross: m("200.00")})
	// The money of a sale that could not complete was held as owed to the
	// customer; the treasurer completes it as the sale.
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
		return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "suspense", SourceID: "pay-1",
			Debit: fund.ProviderClearing("wechatpay"), Credit: fund.RefundsPayable(), Amount: m("38.00")})
	}); err != nil {
		t.Fatal(err)
	}
	p := sale(cid, "late-sale", "38.00", "20.00")
	p.DebitAccount = fund.RefundsPayable()
	if got := post(t, ctx, d, l, p); got.Net.String() != "18.00" {
		t.Fatalf("sale from suspense: net %s", got.Net)
	}
	b := balances(t, ctx, d, l, cid)
	if !b["customer_refunds_payable:"].IsZero() || b["provider_clearing:wechatpay"].String() != "38.00" || b["contributions:cash"].String() != "200.00" {
		t.Fatalf("balances %v", b)
	}
	mustVerify(t, ctx, l, cid)
}

func TestPostProceedsRejectsBadInput(t *testing.T) {
	ctx, d, l, cid := setup(t)
	cases := []struct {
		name string
		edit func(p *fund.Proceeds)
		code apperr.Code
	}{
		{"negative cost", func(p *fund.Proceeds) { p.SupplierCost = m("-1.00") }, apperr.Invalid},
		{"cost above gross", func(p *fund.Proceeds) { p.SupplierCost = m("11.00") }, apperr.Invalid},
		{"zero gross", func(p *fund.Proceeds) { p.Gross = m("0") }, apperr.Invalid},
		{"unknown source kind", func(p *fund.Proceeds) { p.SourceKind = "gift" }, apperr.Invalid},
		{"makers not adding up", func(p *fund.Proceeds) {
			p.MakerShare = m("2.00")
			p.Makers = []fund.MakerPart{{Name: "王师傅", Amount: m("1.00")}}
		}, apperr.Invalid},
		{"payable as debit account", func(p *fund.Proceeds) { p.DebitAccount = fund.SupplierPayable() }, apperr.Invalid},
		{"fund as debit account", func(p *fund.Proceeds) { p.DebitAccount = fund.Earmark(fund.General) }, apperr.Invalid},
		{"unknown community", func(p *fund.Proceeds) { p.CommunityID = "00000000-0000-0000-0000-000000000000" }, apperr.NotFound},
		{"unknown earmark", func(p *fund.Proceeds) { p.Earmark = "赛车" }, apperr.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := sale(cid, "bad-"+c.name, "10.00", "4.00")
			c.edit(&p)
			err := db.InTx(ctx, d, func(tx *sqlx.Tx) error { _, err := l.PostProceeds(ctx, tx, p); return err })
			if apperr.CodeOf(err) != c.code {
				t.Fatalf("err %v, want %s", err, c.code)
			}
		})
	}
	v := mustVerify(t, ctx, l, cid)
	if v.Entries != 0 {
		t.Fatalf("bad input wrote %d entries", v.Entries)
	}
}
