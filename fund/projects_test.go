package fund_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

func tx[T any](t testing.TB, ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) (T, error)) (T, error) {
	t.Helper()
	var out T
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func propose(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid, title, purpose, budget, share string) fund.Project {
	t.Helper()
	p, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		return l.ProposeProject(ctx, tx, cid, fund.ProjectInput{Title: title, Purpose: purpose, Budget: m(budget), FundShare: m(share)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func approve(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid, pid string) (fund.Project, error) {
	return tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) { return l.ApproveProject(ctx, tx, cid, pid, "", time.Time{}) })
}

func contribute(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid, pid, amount string) (fund.Project, error) {
	return tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		_, p, err := l.Contribute(ctx, tx, cid, pid, fund.ContributionInput{Amount: m(amount), Method: "cash", Contributor: "李阿姨"})
		return p, err
	})
}

func disburse(t testing.TB, ctx context.Context, d *sqlx.DB, l *fund.Ledger, cid, pid string, amount money.Amount) (fund.Project, error) {
	return tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		_, p, err := l.Disburse(ctx, tx, cid, pid, fund.DisbursementInput{Amount: amount, Payee: "洛阳某玻璃店", Memo: "窗户玻璃"})
		return p, err
	})
}

func TestProjectLifecycleCoFunded(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "300.00", "100.00")) // 200 to general
	post(t, ctx, d, l, sale(cid, "s2", "500.00", "100.00")) // 400 to general
	p := propose(t, ctx, d, l, cid, "共筑晴窗", "", "1500.00", "500.00")

	p, err := approve(t, ctx, d, l, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != fund.StatusApproved || p.FundCommitted.String() != "500.00" {
		t.Fatalf("after approval: %+v", p)
	}
	// FIFO: all of s1's lot (200), then 300 of s2's.
	tr, err := l.TraceProject(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.FromFund.String() != "500.00" || len(tr.Sources) != 2 || tr.Sources[0].ID != "s1" || tr.Sources[0].Amount.String() != "200.00" || tr.Sources[1].Amount.String() != "300.00" {
		t.Fatalf("trace: %+v", tr)
	}
	st, err := l.TraceSource(ctx, d, cid, fund.SourceSale, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if st.NetProceeds.String() != "400.00" || st.Lots[0].Remaining.String() != "100.00" || st.Lots[0].Allocations[0].Amount.String() != "300.00" {
		t.Fatalf("sale trace: %+v", st)
	}

	if p, err = contribute(t, ctx, d, l, cid, p.ID, "600.00"); err != nil || p.Status != fund.StatusApproved {
		t.Fatalf("contribution: %v %+v", err, p)
	}
	if _, err = contribute(t, ctx, d, l, cid, p.ID, "400.01"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("over-contribution: %v", err)
	}
	if p, err = contribute(t, ctx, d, l, cid, p.ID, "400.00"); err != nil || p.Status != fund.StatusFunded {
		t.Fatalf("last contribution: %v %+v", err, p)
	}
	if !p.Leverage.Equal(decimal.NewFromInt(3)) {
		t.Fatalf("leverage %s, want 3", p.Leverage)
	}
	// The bank pays: until the money reaches it, nothing can be paid out.
	_, err = disburse(t, ctx, d, l, cid, p.ID, m("1499.99"))
	if !fund.IsOverdraw(err) || !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "the bank account holds ¥0.00; it cannot pay ¥1499.99") {
		t.Fatalf("disbursement from an empty bank: %v", err)
	}
	bankIn(t, ctx, d, l, cid, fund.Contributions("cash"), "1000.00") // the 邻长 deposits the residents' cash
	bankIn(t, ctx, d, l, cid, fund.ProviderClearing("sandbox"), "600.00")
	if p, err = disburse(t, ctx, d, l, cid, p.ID, m("1499.99")); err != nil {
		t.Fatal(err)
	}
	if _, err = disburse(t, ctx, d, l, cid, p.ID, m("0.02")); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("overdraw: %v", err)
	}
	p, err = tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		return l.CompleteProject(ctx, tx, cid, p.ID, 240, time.Time{})
	})
	if err != nil || p.Status != fund.StatusCompleted || *p.ResidentsBenefited != 240 {
		t.Fatalf("complete: %v %+v", err, p)
	}
	s, err := l.FundSummary(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if s.InflowTotal.String() != "600.00" || s.Available.String() != "100.00" || s.OutflowTotal.String() != "500.00" || s.Balance.String() != "100.00" {
		t.Fatalf("summary %+v", s)
	}
	mustVerify(t, ctx, l, cid)
}

func TestApproveConflictsWhenFundCannotCover(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(50)}, {Name: fund.General, Percent: decimal.NewFromInt(50)}}); err != nil {
		t.Fatal(err)
	}
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0")) // 50 养老, 50 general
	cases := []struct {
		purpose, share string
		ok             bool
	}{
		{"文化", "50.01", false}, // only general money may serve another purpose
		{"养老", "100.01", false},
		{"养老", "100.00", true}, // its own earmark first, then general
	}
	for _, c := range cases {
		p := propose(t, ctx, d, l, cid, "项目-"+c.purpose+c.share, c.purpose, "200.00", c.share)
		_, err := approve(t, ctx, d, l, cid, p.ID)
		if c.ok != (err == nil) || (err != nil && !apperr.Is(err, apperr.Conflict)) {
			t.Fatalf("%s %s: err %v", c.purpose, c.share, err)
		}
		if !c.ok {
			got, err := l.GetProject(ctx, d, cid, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != fund.StatusProposed || !got.FundCommitted.IsZero() {
				t.Fatalf("a refused approval changed the project: %+v", got)
			}
		}
	}
	s, err := l.FundSummary(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Available.IsZero() || s.Committed.String() != "100.00" {
		t.Fatalf("summary %+v", s)
	}
	mustVerify(t, ctx, l, cid)
}

func TestBadProjectInputWritesNothing(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0"))
	p := propose(t, ctx, d, l, cid, "邻里小站", "", "300.00", "100.00")
	if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
		t.Fatal(err)
	}
	before := mustVerify(t, ctx, l, cid).Entries
	cases := []struct {
		name string
		run  func(tx *sqlx.Tx) error
		code apperr.Code
	}{
		{"fund share above budget", func(tx *sqlx.Tx) error {
			_, err := l.ProposeProject(ctx, tx, cid, fund.ProjectInput{Title: "x", Budget: m("10.00"), FundShare: m("10.01")})
			return err
		}, apperr.Invalid},
		{"negative budget", func(tx *sqlx.Tx) error {
			_, err := l.ProposeProject(ctx, tx, cid, fund.ProjectInput{Title: "x", Budget: m("-10.00")})
			return err
		}, apperr.Invalid},
		{"negative contribution", func(tx *sqlx.Tx) error {
			_, _, err := l.Contribute(ctx, tx, cid, p.ID, fund.ContributionInput{Amount: m("-5.00"), Method: "cash"})
			return err
		}, apperr.Invalid},
		{"unknown method", func(tx *sqlx.Tx) error {
			_, _, err := l.Contribute(ctx, tx, cid, p.ID, fund.ContributionInput{Amount: m("5.00"), Method: "gold"})
			return err
		}, apperr.Invalid},
		{"disbursement over balance", func(tx *sqlx.Tx) error {
			_, _, err := l.Disburse(ctx, tx, cid, p.ID, fund.DisbursementInput{Amount: m("100.01"), Payee: "某店"})
			return err
		}, apperr.Conflict},
		{"negative disbursement", func(tx *sqlx.Tx) error {
			_, _, err := l.Disburse(ctx, tx, cid, p.ID, fund.DisbursementInput{Amount: m("-1.00"), Payee: "某店"})
			return err
		}, apperr.Invalid},
		{"voucher not an image", func(tx *sqlx.Tx) error {
			_, _, err := l.Disburse(ctx, tx, cid, p.ID, fund.DisbursementInput{Amount: m("1.00"), Payee: "某店", Voucher: []byte("hello"), VoucherType: "image/png"})
			return err
		}, apperr.Invalid},
		{"approve twice", func(tx *sqlx.Tx) error { _, err := l.ApproveProject(ctx, tx, cid, p.ID, "", time.Time{}); return err }, apperr.Conflict},
		{"another community's project", func(tx *sqlx.Tx) error {
			other := newCommunity(t, d)
			_, _, err := l.Disburse(ctx, tx, other, p.ID, fund.DisbursementInput{Amount: m("1.00"), Payee: "某店"})
			return err
		}, apperr.NotFound},
		{"rules not summing to 100", func(tx *sqlx.Tx) error {
			_, err := l.SetRules(ctx, tx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(60)}, {Name: "文化", Percent: decimal.NewFromInt(30)}})
			return err
		}, apperr.Invalid},
		{"rules with a negative percent", func(tx *sqlx.Tx) error {
			_, err := l.SetRules(ctx, tx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(110)}, {Name: "文化", Percent: decimal.NewFromInt(-10)}})
			return err
		}, apperr.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := db.InTx(ctx, d, c.run)
			if apperr.CodeOf(err) != c.code {
				t.Fatalf("err %v, want %s", err, c.code)
			}
		})
	}
	if after := mustVerify(t, ctx, l, cid).Entries; after != before {
		t.Fatalf("bad input wrote entries: %d → %d", before, after)
	}
	got, err := l.GetProject(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disbursed.IsZero() || !got.Crowdfunded.IsZero() {
		t.Fatalf("bad input changed the project: %+v", got)
	}
	r, err := l.CurrentRules(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 0 {
		t.Fatalf("bad rules stored: %+v", r)
	}
}

func TestDatabaseRefusesUnbalancedEntryAndBadRules(t *testing.T) {
	ctx, d, l, cid := setup(t)
	// Bypassing the Go code: an entry whose postings do not sum to zero is
	// refused at commit by the deferred constraint trigger.
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var acct, entry string
		if err := tx.Get(&acct, `INSERT INTO ledger_accounts (community_id, kind) VALUES ($1, 'bank') RETURNING id`, cid); err != nil {
			return err
		}
		if err := tx.Get(&entry, `INSERT INTO ledger_entries (community_id, kind) VALUES ($1, 'disbursement') RETURNING id`, cid); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 10), ($1, $2, -9)`, entry, acct)
		return err
	})
	if !db.IsCheckViolation(err, "ledger_entry_balanced") {
		t.Fatalf("unbalanced entry: err %v", err)
	}
	// A committed entry is closed: a balanced pair of postings added later is
	// refused too, and so is a posting to another community's account.
	post(t, ctx, d, l, sale(cid, "s1", "10.00", "4.00"))
	var entry, acct, foreign string
	if err := d.Get(&entry, `SELECT id FROM ledger_entries WHERE community_id = $1`, cid); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&acct, `SELECT id FROM ledger_accounts WHERE community_id = $1 AND kind = 'supplier_payable'`, cid); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 5), ($1, $2, -5)`, entry, acct)
		return err
	})
	if !db.IsCheckViolation(err, "ledger_entry_closed") {
		t.Fatalf("posting to a committed entry: err %v", err)
	}
	other := newCommunity(t, d)
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if err := tx.Get(&foreign, `INSERT INTO ledger_accounts (community_id, kind) VALUES ($1, 'bank') RETURNING id`, other); err != nil {
			return err
		}
		var e string
		if err := tx.Get(&e, `INSERT INTO ledger_entries (community_id, kind) VALUES ($1, 'disbursement') RETURNING id`, cid); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 5), ($1, $3, -5)`, e, acct, foreign)
		return err
	})
	if !db.IsCheckViolation(err, "ledger_posting_same_community") {
		t.Fatalf("posting to another community's account: err %v", err)
	}
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`INSERT INTO fund_rule_sets (community_id, version) VALUES ($1, 1)`, cid); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO fund_rule_earmarks (community_id, version, position, name, percent) VALUES ($1, 1, 0, 'a', 60), ($1, 1, 1, 'b', 30)`, cid)
		return err
	})
	if !db.IsCheckViolation(err, "fund_rules_sum_100") {
		t.Fatalf("rules summing to 90: err %v", err)
	}
}

func TestPostingsAreAppendOnly(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "10.00", "4.00"))
	for _, stmt := range []string{
		`UPDATE ledger_postings SET amount = amount * 2 WHERE entry_id IN (SELECT id FROM ledger_entries WHERE community_id = $1)`,
		`DELETE FROM ledger_postings WHERE entry_id IN (SELECT id FROM ledger_entries WHERE community_id = $1)`,
		`UPDATE ledger_entries SET memo = 'edited' WHERE community_id = $1`,
		`DELETE FROM ledger_entries WHERE community_id = $1`,
	} {
		// The application connects with the same role as this pool.
		if _, err := d.ExecContext(ctx, stmt, cid); err == nil {
			t.Fatalf("%s: succeeded", stmt)
		}
	}
	if _, err := d.ExecContext(ctx, `TRUNCATE ledger_postings CASCADE`); err == nil {
		t.Fatal("TRUNCATE succeeded")
	}
	mustVerify(t, ctx, l, cid)
}

func TestProposalCanChangeUntilApproved(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0"))
	p := propose(t, ctx, d, l, cid, "楼道灯", "", "300.00", "50.00")
	share, budget := m("120.00"), m("100.00")
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		return l.UpdateProject(ctx, tx, cid, p.ID, fund.ProjectPatch{FundShare: &share, Budget: &budget})
	}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("share above budget: %v", err)
	}
	share = m("80.00")
	got, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		return l.UpdateProject(ctx, tx, cid, p.ID, fund.ProjectPatch{FundShare: &share})
	})
	if err != nil || got.FundShare.String() != "80.00" || got.Budget.String() != "300.00" {
		t.Fatalf("update: %v %+v", err, got)
	}
	if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) {
		return l.UpdateProject(ctx, tx, cid, p.ID, fund.ProjectPatch{FundShare: &share})
	}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("update after approval: %v", err)
	}
}

// Callers may post inside a savepoint (a nested transaction).
func TestPostingInsideASavepoint(t *testing.T) {
	ctx, d, l, cid := setup(t)
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`SAVEPOINT before_fund`); err != nil {
			return err
		}
		if _, err := l.PostProceeds(ctx, tx, sale(cid, "sp1", "10.00", "1.00")); err != nil {
			return err
		}
		_, err := tx.Exec(`RELEASE SAVEPOINT before_fund`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ctx, l, cid)
}
