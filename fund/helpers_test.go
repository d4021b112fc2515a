package fund_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
)

func m(s string) money.Amount { return money.MustParse(s) }

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// bankIn moves money into the bank (a deposit of collected cash, a
// provider's settlement) so that disbursements can be paid from it.
func bankIn(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid string, from fund.AccountRef, amount string) {
	t.Helper()
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "bank_deposit", SourceID: randHex(8),
			Debit: fund.Bank(), Credit: from, Amount: m(amount)})
		return err
	})
	if err != nil {
		t.Fatalf("deposit %s to the bank: %v", amount, err)
	}
}

// balances returns the community's account balances (normal direction) by
// "kind:key".
func balances(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid string) map[string]money.Amount {
	t.Helper()
	accts, err := l.Accounts(ctx, d, cid)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	out := map[string]money.Amount{}
	for _, a := range accts {
		out[a.Kind+":"+a.Key] = a.Balance
	}
	return out
}

// count runs a count query and fails the test on error.
func count(t testing.TB, d *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// newCommunity creates a community of the test's own.
func newCommunity(t testing.TB, d *sqlx.DB) string {
	t.Helper()
	var id string
	if err := d.Get(&id, `INSERT INTO communities (name, slug) VALUES ($1, $2) RETURNING id`, "测试社区", "t-"+randHex(8)); err != nil {
		t.Fatal(err)
	}
	return id
}

func setup(t testing.TB) (context.Context, *sqlx.DB, *fund.Ledger, string) {
	t.Helper()
	d := dbtest.Open(t)
	return context.Background(), d, fund.New(d), newCommunity(t, d)
}

// post runs PostProceeds in its own transaction.
func post(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, p fund.Proceeds) fund.Posted {
	t.Helper()
	var out fund.Posted
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var err error
		out, err = l.PostProceeds(ctx, tx, p)
		return err
	})
	if err != nil {
		t.Fatalf("PostProceeds: %v", err)
	}
	return out
}

func sale(cid, id string, gross, cost string) fund.Proceeds {
	return fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: id, SourceRef: "S-" + id,
		DebitAccount: fund.ProviderClearing("sandbox"), Gross: m(gross), SupplierCost: m(cost)}
}

// mustVerify fails the test when the ledger of the community is not sound.
func mustVerify(t testing.TB, ctx context.Context, l *fund.Ledger, cid string) fund.VerifyResult {
	t.Helper()
	v, err := l.Verify(ctx, cid)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.OK {
		t.Fatalf("ledger problems: %v", v.Problems)
	}
	return v
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
