package fund_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// 100 concurrent postings, refunds and approvals on one community's hot fund
// accounts, while disbursements race to drain a project: nothing overdraws,
// and no deadlock or serialization failure reaches the caller (db.InTx
// retries them).
func TestConcurrentPostingsAndDisbursements(t *testing.T) {
	ctx, d, l, cid := setup(t)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(30)}, {Name: fund.General, Percent: decimal.NewFromInt(70)}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		post(t, ctx, d, l, sale(cid, fmt.Sprintf("seed%d", i), "100.00", "0"))
	}
	proj := propose(t, ctx, d, l, cid, "共筑晴窗", "", "500.00", "500.00")
	if _, err := approve(t, ctx, d, l, cid, proj.ID); err != nil {
		t.Fatal(err)
	}
	bankIn(t, ctx, d, l, cid, fund.ProviderClearing("sandbox"), "600.00") // the provider settles to the bank

	var wg sync.WaitGroup
	errs := make(chan error, 400)
	var mu sync.Mutex
	paid := money.Zero
	refused := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// every source is posted twice at the same time: exactly one posting each
			p := sale(cid, fmt.Sprintf("c%d", i), "23.45", "10.00")
			p.DebitAccount = fund.CashDrawer("00000000-0000-0000-0000-00000000000" + fmt.Sprint(i%10))
			var twice sync.WaitGroup
			ids := make([]string, 2)
			for k := 0; k < 2; k++ {
				twice.Add(1)
				go func() {
					defer twice.Done()
					got, err := tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Posted, error) { return l.PostProceeds(ctx, tx, p) })
					if err != nil {
						errs <- fmt.Errorf("post %d: %w", i, err)
					}
					ids[k] = got.EntryID
				}()
			}
			twice.Wait()
			if ids[0] != ids[1] {
				errs <- fmt.Errorf("source c%d posted twice: %v", i, ids)
			}
			if i%10 == 0 { // some refunds of the seed sales, which were partly committed
				_, err := tx(t, ctx, d, reverse(t, l, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: fmt.Sprintf("seed%d", i/10), ReversalID: fmt.Sprintf("rf%d", i), Gross: m("40.00")}))
				if err != nil {
					errs <- fmt.Errorf("refund %d: %w", i, err)
				}
			}
			if i%20 == 0 { // approvals competing for the same lots
				pp := propose(t, ctx, d, l, cid, fmt.Sprintf("小项目%d", i), "养老", "30.00", "30.00")
				if _, err := approve(t, ctx, d, l, cid, pp.ID); err != nil && !apperr.Is(err, apperr.Conflict) {
					errs <- fmt.Errorf("approve %d: %w", i, err)
				}
			}
			// 100 × 7.77 = 777 wanted from a project that holds 500
			_, err := disburse(t, ctx, d, l, cid, proj.ID, m("7.77"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				paid = paid.Add(m("7.77"))
			case apperr.Is(err, apperr.Conflict):
				refused++
			default:
				errs <- fmt.Errorf("disburse %d: %w", i, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := l.GetProject(ctx, d, cid, proj.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disbursed.Equal(paid) || paid.GreaterThan(m("500.00")) || got.Balance.IsNegative() {
		t.Fatalf("paid %s, project %+v", paid, got)
	}
	if paid.Cents() != 64*777 || refused != 36 { // floor(500 / 7.77) = 64
		t.Fatalf("paid %s with %d refused, want 64 payments", paid, refused)
	}
	if n := count(t, d, `SELECT count(*) FROM fund_proceeds WHERE community_id = $1 AND source_id LIKE 'c%'`, cid); n != 100 {
		t.Fatalf("%d postings, want 100", n)
	}
	mustVerify(t, ctx, l, cid)
	assertLedgerInvariants(t, d, cid)
}

// Two disbursements racing for the same bank money: each fits what the bank
// holds alone, not both. The database's CHECK decides; the loser gets a
// plain overdraw conflict, and the bank never goes below zero.
func TestConcurrentDisbursementsCannotOverdrawTheBank(t *testing.T) {
	ctx, d, l, cid := setup(t)
	post(t, ctx, d, l, sale(cid, "s1", "200.00", "0"))
	var pids []string
	for i := 0; i < 2; i++ {
		p := propose(t, ctx, d, l, cid, fmt.Sprintf("项目%d", i), "", "80.00", "80.00")
		if _, err := approve(t, ctx, d, l, cid, p.ID); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.ID)
	}
	for round := 0; round < 5; round++ {
		bankIn(t, ctx, d, l, cid, fund.ProviderClearing("sandbox"), "10.00")
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range pids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = disburse(t, ctx, d, l, cid, pids[i], m("10.00"))
			}(i)
		}
		close(start)
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case fund.IsOverdraw(err) && apperr.Is(err, apperr.Conflict):
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d paid, %d refused, want 1 and 1 (%v)", round, ok, refused, errs)
		}
		if b := balances(t, ctx, d, l, cid)["bank:"]; !b.IsZero() {
			t.Fatalf("round %d: bank holds %s, want 0.00", round, b)
		}
	}
	mustVerify(t, ctx, l, cid)
}
