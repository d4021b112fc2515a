package fund_test

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
)

// A group-buy's money: paid into escrow, then either posted as proceeds
// from escrow when the campaign succeeds, or refunded from escrow.
func TestGroupBuyMoneyThroughEscrow(t *testing.T) {
	ctx, d, l, cid := setup(t)
	join := func(id string) error {
		_, err := tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
			return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "groupbuy_join_paid", SourceID: id,
				Debit: fund.ProviderClearing("wechatpay"), Credit: fund.GroupBuyEscrow(), Amount: m("79.80")})
		})
		return err
	}
	for _, id := range []string{"j1", "j2", "j1"} { // j1 twice: one entry
		if err := join(id); err != nil {
			t.Fatal(err)
		}
	}
	p := fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceGroupBuy, SourceID: "j1", SourceRef: "社邻益购·樱桃",
		DebitAccount: fund.GroupBuyEscrow(), Gross: m("79.80"), SupplierCost: m("71.80")}
	if got := post(t, ctx, d, l, p); got.Net.String() != "8.00" {
		t.Fatalf("group-buy fund part %s", got.Net)
	}
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
		return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "groupbuy_join_refunded", SourceID: "j2",
			Debit: fund.GroupBuyEscrow(), Credit: fund.ProviderClearing("wechatpay"), Amount: m("79.80")})
	}); err != nil {
		t.Fatal(err)
	}
	accts, err := l.Accounts(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Kind == fund.KindGroupBuyEscrow && !a.Balance.IsZero() {
			t.Fatalf("escrow holds %s after settlement and refund", a.Balance)
		}
	}
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
		return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "x", SourceID: "y",
			Debit: fund.Earmark(fund.General), Credit: fund.Bank(), Amount: m("1.00")})
	}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a transfer out of the fund: %v", err)
	}
	v := mustVerify(t, ctx, l, cid)
	if v.Entries != 4 {
		t.Fatalf("%d entries, want 4", v.Entries)
	}
}
