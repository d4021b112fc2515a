package fund_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/dbtest"
)

// refused runs stmt in a transaction of its own and fails the test when the
// database accepts it.
func refused(t *testing.T, d *sqlx.DB, stmt string, args ...any) {
	t.Helper()
	err := db.InTx(context.Background(), d, func(tx *sqlx.Tx) error {
		_, err := tx.Exec(stmt, args...)
		return err
	})
	if err == nil {
		t.Errorf("accepted: %s", stmt)
	}
}

// A stored balance is written only by the posting trigger: not by a direct
// UPDATE, nor by an INSERT with money already in it.
func TestBalancesAreWrittenOnlyByPostings(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "10.00", "4.00"))
	refused(t, d, `UPDATE ledger_accounts SET balance = balance - 1 WHERE community_id = $1 AND kind = 'fund_earmark'`, cid)
	refused(t, d, `UPDATE ledger_accounts SET balance = 0 WHERE community_id = $1`, cid)
	refused(t, d, `UPDATE ledger_accounts SET key = 'other' WHERE community_id = $1 AND kind = 'fund_earmark'`, cid)
	refused(t, d, `INSERT INTO ledger_accounts (community_id, kind, key, balance) VALUES ($1, 'bank', 'x', 100)`, cid)
	// Creating an account at zero stays allowed (postings then move money).
	if _, err := d.Exec(`INSERT INTO ledger_accounts (community_id, kind, key) VALUES ($1, 'bank', 'spare')`, cid); err != nil {
		t.Fatalf("creating an empty account: %v", err)
	}
	mustVerify(t, ctx, l, cid)
}

// Real money cannot go below zero, whatever the code does: a raw posting
// that would overdraw the bank is refused by the database.
func TestDatabaseRefusesNegativeRealMoney(t *testing.T) {
	ctx, d, l, cid := setup(t)
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var bank, proj, entry string
		if err := tx.Get(&bank, `INSERT INTO ledger_accounts (community_id, kind) VALUES ($1, 'bank') RETURNING id`, cid); err != nil {
			return err
		}
		if err := tx.Get(&proj, `INSERT INTO ledger_accounts (community_id, kind, key) VALUES ($1, 'contributions', 'cash') RETURNING id`, cid); err != nil {
			return err
		}
		if err := tx.Get(&entry, `INSERT INTO ledger_entries (community_id, kind) VALUES ($1, 'transfer') RETURNING id`, cid); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 5), ($1, $3, -5)`, entry, proj, bank)
		return err
	})
	if !db.IsCheckViolation(err, "ledger_accounts_real_money_nonnegative") {
		t.Fatalf("a bank going to -5: %v", err)
	}
	// Through the fund's own code: a plain conflict naming the account.
	_, err = tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
		return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "supplier_paid", SourceID: "p1",
			Debit: fund.SupplierPayable(), Credit: fund.Bank(), Amount: m("90.00")})
	})
	if !fund.IsOverdraw(err) || !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "the bank account holds ¥0.00; it cannot pay ¥90.00") {
		t.Fatalf("paying a supplier from an empty bank: %v", err)
	}
	bankIn(t, ctx, d, l, cid, fund.Contributions("cash"), "40.00")
	_, err = tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) {
		return l.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "supplier_paid", SourceID: "p1",
			Debit: fund.SupplierPayable(), Credit: fund.Bank(), Amount: m("90.00")})
	})
	var oe *fund.OverdrawError
	if !fund.IsOverdraw(err) || !errorsAs(err, &oe) || oe.Holds.String() != "40.00" || oe.Wants.String() != "90.00" ||
		!strings.Contains(err.Error(), "the bank account holds ¥40.00; it cannot pay ¥90.00") {
		t.Fatalf("paying 90 from a bank holding 40: %v", err)
	}
	mustVerify(t, ctx, l, cid)
}

// A disbursement cannot pay more than the bank holds, even when the project
// holds it.
func TestDisbursementLimitedByBank(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0"))
	p := propose(t, ctx, d, l, cid, "楼道灯", "", "100.00", "100.00")
	if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
		t.Fatal(err)
	}
	bankIn(t, ctx, d, l, cid, fund.ProviderClearing("sandbox"), "40.00")
	_, err := disburse(t, ctx, d, l, cid, p.ID, m("90.00"))
	if !fund.IsOverdraw(err) || !strings.Contains(err.Error(), "the bank account holds ¥40.00; it cannot pay ¥90.00") {
		t.Fatalf("disbursing 90 from a bank holding 40: %v", err)
	}
	got, err := l.GetProject(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disbursed.IsZero() {
		t.Fatalf("a refused disbursement was recorded: %+v", got)
	}
	if _, err := disburse(t, ctx, d, l, cid, p.ID, m("40.00")); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ctx, l, cid)
}

// The fund's side tables are append-only or guarded column by column.
func TestFundTablesAreGuarded(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0"))
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "s1", ReversalID: "r1", Gross: m("10.00")})); err != nil {
		t.Fatal(err)
	}
	p := propose(t, ctx, d, l, cid, "楼道灯", "", "100.00", "50.00")
	if _, err := contribute(t, ctx, d, l, cid, p.ID, "20.00"); err != nil {
		t.Fatal(err)
	}
	if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
		t.Fatal(err)
	}
	bankIn(t, ctx, d, l, cid, fund.Contributions("cash"), "20.00")
	if _, err := disburse(t, ctx, d, l, cid, p.ID, m("10.00")); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"fund_proceeds", "fund_lots", "fund_reversals", "fund_contributions", "fund_disbursements", "fund_lot_allocations"} {
		refused(t, d, `DELETE FROM `+table+` WHERE community_id = $1`, cid)
		refused(t, d, `TRUNCATE `+table+` CASCADE`)
	}
	for _, stmt := range []string{
		`UPDATE fund_proceeds SET gross = gross + 1 WHERE community_id = $1`,
		`UPDATE fund_proceeds SET net = net - 1, supplier_cost = supplier_cost + 1 WHERE community_id = $1`,
		`UPDATE fund_proceeds SET reversed_gross = 0, reversed_net = 0 WHERE community_id = $1`,
		`UPDATE fund_proceeds SET simulated = NOT simulated WHERE community_id = $1`,
		`UPDATE fund_lots SET original = original + 1, remaining = remaining + 1 WHERE community_id = $1`,
		`UPDATE fund_lots SET remaining = remaining + 1, reversed = reversed - 1 WHERE community_id = $1`,
		`UPDATE fund_lots SET earmark = 'x' WHERE community_id = $1`,
		`UPDATE fund_reversals SET write_off = 1 WHERE community_id = $1`,
		`UPDATE fund_contributions SET amount = 1 WHERE community_id = $1`,
		`UPDATE fund_disbursements SET amount = 1 WHERE community_id = $1`,
		`UPDATE fund_disbursements SET payee = 'someone else' WHERE community_id = $1`,
	} {
		refused(t, d, stmt, cid)
	}
	// What legitimately changes still does: a disbursement's voucher.
	var did string
	if err := d.Get(&did, `SELECT id FROM fund_disbursements WHERE community_id = $1`, cid); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		return l.SetVoucher(ctx, tx, cid, did, tinyJPEG, "image/jpeg")
	}); err != nil {
		t.Fatalf("attaching a voucher: %v", err)
	}
	mustVerify(t, ctx, l, cid)
}

var tinyJPEG = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}

// Allocation rules cannot be changed once written: not their percents, not
// their earmarks, and no earmark can be added to an old version.
func TestRulesAreImmutable(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(40)}, {Name: fund.General, Percent: decimal.NewFromInt(60)}}); err != nil {
		t.Fatal(err)
	}
	refused(t, d, `UPDATE fund_rule_earmarks SET percent = 50 WHERE community_id = $1`, cid)
	refused(t, d, `UPDATE fund_rule_earmarks SET name = '文化' WHERE community_id = $1 AND name = '养老'`, cid)
	refused(t, d, `DELETE FROM fund_rule_earmarks WHERE community_id = $1`, cid)
	refused(t, d, `DELETE FROM fund_rule_sets WHERE community_id = $1`, cid)
	refused(t, d, `UPDATE fund_rule_sets SET version = 7 WHERE community_id = $1`, cid)
	refused(t, d, `INSERT INTO fund_rule_earmarks (community_id, version, position, name, percent) VALUES ($1, 1, 9, '文化', 0.01)`, cid)
	refused(t, d, `TRUNCATE fund_rule_earmarks CASCADE`)
	r, err := l.CurrentRules(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || len(r.Earmarks) != 2 || !r.Earmarks[0].Percent.Equal(decimal.NewFromInt(40)) {
		t.Fatalf("rules changed: %+v", r)
	}
}

// Lots are consumed first-in-first-out by database sequence, whatever time
// the caller's clock gave them.
func TestLotsConsumedInSequenceOrderNotClock(t *testing.T) {
	ctx, d, l, cid := setup(t)
	first := sale(cid, "first", "50.00", "0")
	first.At = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	post(t, ctx, d, l, first)
	second := sale(cid, "second", "50.00", "0")
	second.At = first.At.Add(-24 * time.Hour) // a clock that ran behind
	post(t, ctx, d, l, second)
	p := propose(t, ctx, d, l, cid, "楼道灯", "", "60.00", "60.00")
	if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
		t.Fatal(err)
	}
	tr, err := l.TraceProject(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Sources) != 2 || tr.Sources[0].ID != "first" || tr.Sources[0].Amount.String() != "50.00" || tr.Sources[1].Amount.String() != "10.00" {
		t.Fatalf("FIFO by sequence: %+v", tr.Sources)
	}
}

// A transfer replayed with other amounts or accounts is an idempotency
// conflict; the same transfer again returns the first entry.
func TestTransferReplay(t *testing.T) {
	ctx, d, l, cid := setup(t)
	tr := fund.Transfer{CommunityID: cid, SourceKind: "settlement", SourceID: "wx-2026-06-01",
		Debit: fund.Bank(), Credit: fund.ProviderClearing("wechatpay"), Amount: m("12.00")}
	do := func(tr fund.Transfer) (string, error) {
		return tx(t, ctx, d, func(tx *sqlx.Tx) (string, error) { return l.PostTransfer(ctx, tx, tr) })
	}
	id1, err := do(tr)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := do(tr)
	if err != nil || id2 != id1 {
		t.Fatalf("replay: %v %s %s", err, id1, id2)
	}
	other := tr
	other.Amount = m("12.01")
	if _, err := do(other); !apperr.Is(err, apperr.IdempotencyConflict) {
		t.Fatalf("replay with another amount: %v", err)
	}
	other = tr
	other.Credit = fund.ProviderClearing("alipay")
	if _, err := do(other); !apperr.Is(err, apperr.IdempotencyConflict) {
		t.Fatalf("replay with another account: %v", err)
	}
	if n := count(t, d, `SELECT count(*) FROM ledger_entries WHERE community_id = $1`, cid); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
	mustVerify(t, ctx, l, cid)
}

// Sandbox money is marked simulated and left out of the public figures.
func TestSimulatedMoneyLeftOutOfPublicFigures(t *testing.T) {
	ctx, d, l, cid := setup(t)
	real := sale(cid, "real", "100.00", "40.00")
	real.DebitAccount = fund.ProviderClearing("wechatpay")
	post(t, ctx, d, l, real)                               // 60 real
	post(t, ctx, d, l, sale(cid, "sim", "50.00", "10.00")) // 40 simulated
	if _, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: "sim", ReversalID: "r-sim",
		Gross: m("10.00"), Parts: &fund.ReversalParts{Fund: m("10.00")}})); err != nil {
		t.Fatal(err)
	}
	es, _, err := l.Entries(ctx, d, cid, fund.EntryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	sim := map[string]bool{}
	for _, e := range es {
		sim[e.Kind+" "+e.SourceID] = e.Simulated
	}
	if len(es) != 3 || sim["proceeds real"] || !sim["proceeds sim"] || !sim["reversal sim"] {
		t.Fatalf("simulated flags %v", sim)
	}
	all, err := l.FundSummary(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if all.InflowTotal.String() != "90.00" {
		t.Fatalf("the treasurer's inflow %s, want 90.00", all.InflowTotal)
	}
	pub, err := l.PublicTransparency(ctx, d, cid)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Headline.FundInjected.String() != "60.00" || pub.Summary.Balance.String() != "60.00" || pub.Summary.Available.String() != "60.00" {
		t.Fatalf("public figures count simulated money: %+v %+v", pub.Headline, pub.Summary)
	}
	for _, s := range pub.InBySource {
		if s.Name == fund.SourceSale && s.Amount.String() != "60.00" {
			t.Fatalf("public in by source %+v", pub.InBySource)
		}
	}
	for _, e := range pub.Recent {
		if e.Label == "S-sim" {
			t.Fatalf("a simulated entry on the public page: %+v", e)
		}
	}
	var in, out string
	if len(pub.Months) != 1 {
		t.Fatalf("months %+v", pub.Months)
	}
	in, out = pub.Months[0].In.String(), pub.Months[0].Out.String()
	if in != "60.00" || out != "0.00" {
		t.Fatalf("public month in %s out %s", in, out)
	}
	st, err := l.TraceSource(ctx, d, cid, fund.SourceSale, "sim")
	if err != nil || !st.Simulated {
		t.Fatalf("trace of a sandbox sale: %v %+v", err, st)
	}
	mustVerify(t, ctx, l, cid)
}

// Residents' money given to a project that did not go ahead can be given
// back, once; not after the fund has approved the project.
func TestRefundContribution(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "0"))
	p := propose(t, ctx, d, l, cid, "邻里文化墙", "", "300.00", "50.00")
	give := func(pid, receipt string) fund.Contribution {
		c, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Contribution, error) {
			c, _, err := l.Contribute(ctx, tx, cid, pid, fund.ContributionInput{Amount: m("30.00"), Method: "cash", ReceiptNo: receipt})
			return c, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	refund := func(pid, kid string) (fund.ContributionRefund, error) {
		return tx(t, ctx, d, func(tx *sqlx.Tx) (fund.ContributionRefund, error) {
			r, _, err := l.RefundContribution(ctx, tx, cid, pid, kid, "", time.Time{})
			return r, err
		})
	}
	c1, c2 := give(p.ID, "R1"), give(p.ID, "R2")
	if _, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Project, error) { return l.RejectProject(ctx, tx, cid, p.ID) }); err != nil {
		t.Fatal(err)
	}
	r1, err := refund(p.ID, c1.ID)
	if err != nil || r1.Amount.String() != "30.00" || r1.Method != "cash" {
		t.Fatalf("refund: %v %+v", err, r1)
	}
	again, err := refund(p.ID, c1.ID)
	if err != nil || again.EntryID != r1.EntryID {
		t.Fatalf("refund again: %v %+v", err, again)
	}
	got, err := l.GetProject(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Crowdfunded.String() != "30.00" || got.Balance.String() != "30.00" {
		t.Fatalf("project after one refund: %+v", got)
	}
	cs, err := l.Contributions(ctx, d, cid, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].RefundedAt == nil || cs[1].RefundedAt != nil {
		t.Fatalf("contributions %+v", cs)
	}
	if _, err := refund(p.ID, "00000000-0000-0000-0000-000000000000"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown contribution: %v", err)
	}
	// An approved project keeps its residents' money.
	q := propose(t, ctx, d, l, cid, "楼道灯", "", "100.00", "50.00")
	c3 := give(q.ID, "R3")
	if _, err := approve(t, ctx, d, l, cid, q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := refund(q.ID, c3.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("refund from an approved project: %v", err)
	}
	if _, err := refund(q.ID, c2.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a contribution of another project: %v", err)
	}
	if b := balances(t, ctx, d, l, cid)["contributions:cash"]; b.String() != "60.00" {
		t.Fatalf("collected cash %s, want 60.00", b)
	}
	mustVerify(t, ctx, l, cid)
}

// VerifyIn runs inside a caller's REPEATABLE READ READ ONLY snapshot, and
// finds tampering with the ids involved.
func TestVerifyInSnapshotFindsTampering(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Fresh(t)
	l := fund.New(d)
	cid := newCommunity(t, d)
	post(t, ctx, d, l, sale(cid, "s1", "100.00", "40.00"))
	snap, err := d.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := snap.Rollback(); err != nil {
			t.Errorf("rollback: %v", err)
		}
	}()
	v, err := l.VerifyIn(ctx, snap, cid)
	if err != nil || !v.OK || v.Entries != 1 {
		t.Fatalf("verify in a snapshot: %v %+v", err, v)
	}
	// Tamper as a superuser would (triggers off), on a database of the
	// test's own.
	var acct string
	if err := d.Get(&acct, `SELECT id FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_earmark'`, cid); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`ALTER TABLE ledger_accounts DISABLE TRIGGER ledger_accounts_guard`,
		`UPDATE ledger_accounts SET balance = balance + 1 WHERE id = '` + acct + `'`,
		`ALTER TABLE ledger_accounts ENABLE TRIGGER ledger_accounts_guard`,
	} {
		if _, err := d.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// The snapshot still sees the sound ledger; a new verify sees the change.
	if v, err := l.VerifyIn(ctx, snap, cid); err != nil || !v.OK {
		t.Fatalf("the snapshot moved: %v %+v", err, v)
	}
	v, err = l.Verify(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range v.Violations {
		if x.Check == "account balance differs from the sum of its postings" && len(x.IDs) == 1 && x.IDs[0] == acct {
			found = true
		}
	}
	if v.OK || !found {
		t.Fatalf("tampering not found: %+v", v)
	}
	all, err := l.VerifyAll(ctx)
	if err != nil || all[cid].OK {
		t.Fatalf("verify all: %v %+v", err, all[cid])
	}
}
