package groupbuy_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders"
)

// TestFailedCampaignRefundsOnce: 30 paid joins, threshold not met. The
// settlement runs twice at once (two replicas): one settles. Every paid
// join is refunded exactly once through the sandbox, even though one
// refund call fails the first time and every refund job runs twice at once.
func TestFailedCampaignRefundsOnce(t *testing.T) {
	f := setup(t)
	c := f.campaign(100, 200, nil, nil)
	var joins []*groupbuy.Joined
	total := money.Zero
	for i := range 30 {
		j := f.mustJoin(c, fmt.Sprintf("邻居%d", i), fmt.Sprintf("1390000%04d", i), "5号楼", 1+i%3)
		f.pay(j)
		joins = append(joins, j)
		total = total.Add(j.Order.Total)
	}
	unpaid := f.mustJoin(c, "没付钱", "13911112222", "5号楼", 1)
	if got := f.escrow(); !got.Equal(total) {
		t.Fatalf("escrow %s, want %s", got, total)
	}
	var wg sync.WaitGroup
	results := make([]*groupbuy.Settled, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.gb.Settle(f.ctx, f.cid, c.ID)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if results[0].Now == results[1].Now {
		t.Fatalf("both or neither settled: %v %v", results[0].Now, results[1].Now)
	}
	for _, r := range results {
		if r.Campaign.Status != groupbuy.Failed {
			t.Fatalf("status %s", r.Campaign.Status)
		}
		if r.Now && (r.Refunding != 30 || r.Expired != 1) {
			t.Fatalf("settled %+v", r)
		}
	}
	if st := f.joinRow(unpaid.Join.ID).Status; st != groupbuy.JoinExpired {
		t.Fatalf("unpaid join %s", st)
	}
	var refunds []struct {
		ID string `db:"id"`
	}
	if err := f.d.SelectContext(f.ctx, &refunds, `SELECT r.id FROM groupbuy_refunds r JOIN groupbuy_joins j ON j.id=r.join_id WHERE j.campaign_id=$1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(refunds) != 30 {
		t.Fatalf("%d refunds queued", len(refunds))
	}
	f.sandbox.mu.Lock()
	f.sandbox.failOnce[refunds[7].ID] = true
	f.sandbox.mu.Unlock()
	// First attempt of every job at once: one provider call fails.
	submit := func(times int) map[string]error {
		var mu sync.Mutex
		errs := map[string]error{}
		for _, r := range refunds {
			for range times {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := f.gb.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
						mu.Lock()
						errs[r.ID] = err
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		return errs
	}
	errs := submit(1)
	if len(errs) != 1 || errs[refunds[7].ID] == nil {
		t.Fatalf("first attempts: %v", errs)
	}
	var pending int
	if err := f.d.GetContext(f.ctx, &pending, `SELECT count(*) FROM groupbuy_refunds WHERE community_id=$1 AND status='pending'`, f.cid); err != nil {
		t.Fatal(err)
	}
	if pending != 1 {
		t.Fatalf("pending after a failed call: %d", pending)
	}
	f.verify() // its money is still in escrow, visible
	// Retries: every job twice at once (a retry racing a sweep on another replica).
	if errs := submit(2); len(errs) != 0 {
		t.Fatalf("retries: %v", errs)
	}
	if _, err := f.gb.SweepRefunds(f.ctx, -time.Minute, 100); err != nil {
		t.Fatal(err)
	}
	var got struct {
		N   int          `db:"n"`
		Sum money.Amount `db:"sum"`
	}
	if err := f.d.GetContext(f.ctx, &got, `SELECT count(*) AS n, COALESCE(sum(sr.amount),0) AS sum FROM sandbox_refunds sr
		JOIN payments p ON p.merchant_ref = sr.merchant_ref JOIN groupbuy_joins j ON j.payment_id = p.id WHERE j.campaign_id=$1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if got.N != 30 || !got.Sum.Equal(total) {
		t.Fatalf("sandbox refunded %d for %s, want 30 for %s", got.N, got.Sum, total)
	}
	for _, j := range joins {
		if st := f.joinRow(j.Join.ID).Status; st != groupbuy.JoinRefunded {
			t.Fatalf("join %s is %s", j.Join.ID, st)
		}
	}
	if got := f.escrow(); !got.IsZero() {
		t.Fatalf("escrow %s after refunds", got)
	}
	// No fund money from a failed campaign.
	sum, err := f.pos.Fund.FundSummary(f.ctx, f.d, f.cid)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Balance.IsZero() {
		t.Fatalf("fund %s", sum.Balance)
	}
	// Settling again does nothing.
	r, err := f.gb.Settle(f.ctx, f.cid, c.ID)
	if err != nil || r.Now {
		t.Fatalf("settle again: %+v %v", r, err)
	}
	if _, err := f.join(c, "晚了", "13900009999", "1号楼", 1); refusal(err) != "closed" {
		t.Fatalf("joining a failed campaign: %v", err)
	}
	f.verify()
}

// TestSucceededCampaign: the fund gets Σ fund share of the paid joins,
// traceable from each join; pickup codes work once; a payment that arrives
// after the settlement is held in suspense and refunded automatically.
func TestSucceededCampaign(t *testing.T) {
	f := setup(t)
	c := f.campaign(5, 50, nil, nil)
	qtys := []int{1, 2, 3, 1, 2}
	var joins []*groupbuy.Joined
	for i, q := range qtys {
		j := f.mustJoin(c, fmt.Sprintf("张%d", i), fmt.Sprintf("1380000%04d", i), fmt.Sprintf("%d号楼", 1+i%2), q)
		f.pay(j)
		joins = append(joins, j)
	}
	// A join paid in the wallet whose notification comes only after the
	// settlement closed it.
	late := f.mustJoin(c, "晚到", "13800009999", "1号楼", 1)
	lateBody, err := f.payInWallet(late)
	if err != nil {
		t.Fatal(err)
	}
	// A repeated notification has no second effect.
	if st, err := f.deliver(mustBody(f, joins[0])); err != nil || st != http.StatusOK {
		t.Fatalf("repeat: %d %v", st, err)
	}
	res, err := f.gb.Settle(f.ctx, f.cid, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Campaign.Status != groupbuy.Succeeded || res.Confirmed != 5 || res.Expired != 1 {
		t.Fatalf("settled %+v", res)
	}
	sum, err := f.pos.Fund.FundSummary(f.ctx, f.d, f.cid)
	if err != nil {
		t.Fatal(err)
	}
	want := money.MustParse("5.00").Mul(9) // 9 units × ¥5
	if !sum.Balance.Equal(want) {
		t.Fatalf("fund %s, want %s", sum.Balance, want)
	}
	for i, j := range joins {
		tr, err := f.pos.Fund.TraceSource(f.ctx, f.d, f.cid, fund.SourceGroupBuy, j.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.NetProceeds.Equal(money.MustParse("5.00").Mul(int64(qtys[i]))) || !tr.Gross.Equal(j.Order.Total) {
			t.Fatalf("trace of join %d: %+v", i, tr)
		}
		o, err := orders.Get(f.ctx, f.d, f.cid, j.Order.ID)
		if err != nil || o.Status != orders.Paid {
			t.Fatalf("order %v %v", o, err)
		}
	}
	if !f.escrow().IsZero() {
		t.Fatalf("escrow %s after success", f.escrow())
	}
	// The late payment: held and refunded, never in the fund.
	if st, err := f.deliver(lateBody); err != nil || st != http.StatusOK {
		t.Fatalf("late: %d %v", st, err)
	}
	if st := f.joinRow(late.Join.ID).Status; st != groupbuy.JoinHeld {
		t.Fatalf("late join %s", st)
	}
	f.verify()
	if _, err := f.gb.SweepRefunds(f.ctx, -time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if st := f.joinRow(late.Join.ID).Status; st != groupbuy.JoinRefunded {
		t.Fatalf("late join after refund: %s", st)
	}
	f.verify()
	// Pickups: each code once.
	code := f.joinRow(joins[2].Join.ID).PickupCode
	pick := func(code string) error {
		tx, err := f.d.BeginTxx(f.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.gb.Pickup(f.ctx, tx, f.cid, c.ID, code, f.leader, "")
		if err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	if err := pick(code); err != nil {
		t.Fatal(err)
	}
	if err := pick(code); refusal(err) != "code_used" || !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second pickup: %v", err)
	}
	used := map[string]bool{f.joinRow(late.Join.ID).PickupCode: true}
	for _, j := range joins {
		used[f.joinRow(j.Join.ID).PickupCode] = true
	}
	bad := "000000"
	for i := 0; used[bad]; i++ {
		bad = fmt.Sprintf("%06d", i)
	}
	if err := pick(bad); refusal(err) != "code_unknown" {
		t.Fatalf("unknown code: %v", err)
	}
	if err := pick("12ab"); refusal(err) != "code_format" {
		t.Fatalf("bad code: %v", err)
	}
	if f.joinRow(joins[2].Join.ID).PickedUpAt == nil {
		t.Fatal("not marked picked up")
	}
	f.verify()
}

func mustBody(f *fx, j *groupbuy.Joined) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[j.Payment.MerchantRef]
}

// TestProxyJoin: a 邻长 records a neighbour without a smartphone who paid
// in cash: the join is paid at once and the cash is owed by the 邻长
// (contributions:cash) until handed over; a failed campaign gives it back.
func TestProxyJoin(t *testing.T) {
	f := setup(t)
	owed := func() money.Amount {
		var bal money.Amount
		if err := f.d.GetContext(f.ctx, &bal, `SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE community_id=$1 AND kind='contributions' AND key='cash'), 0)`, f.cid); err != nil {
			t.Fatal(err)
		}
		return bal
	}
	proxy := func(c *groupbuy.Campaign, qty int, by string) (*groupbuy.Joined, error) {
		tx, err := f.d.BeginTxx(f.ctx, nil)
		if err != nil {
			return nil, err
		}
		j, err := f.gb.Join(f.ctx, tx, c.Token, groupbuy.JoinInput{Name: "刘奶奶", Phone: "13700001111", Building: "2号楼", Qty: qty, Provider: "cash", ProxyBy: by})
		if err != nil {
			tx.Rollback()
			return nil, err
		}
		return j, tx.Commit()
	}
	c := f.campaign(10, 20, nil, nil)
	if _, err := proxy(c, 1, ""); refusal(err) != "provider" {
		t.Fatalf("cash without a 邻长: %v", err)
	}
	j, err := proxy(c, 2, f.leader)
	if err != nil {
		t.Fatal(err)
	}
	if j.Join.Status != groupbuy.JoinPaid || j.Payment.Status != orders.PaymentSucceeded {
		t.Fatalf("proxy join %s, payment %s", j.Join.Status, j.Payment.Status)
	}
	if got := owed(); !got.Equal(money.MustParse("60.00")) {
		t.Fatalf("owed by the 邻长 %s", got)
	}
	f.verify()
	if _, err := f.gb.Settle(f.ctx, f.cid, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gb.SweepRefunds(f.ctx, -time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if st := f.joinRow(j.Join.ID).Status; st != groupbuy.JoinRefunded {
		t.Fatalf("after failure %s", st)
	}
	if got := owed(); !got.IsZero() {
		t.Fatalf("owed after the refund %s", got)
	}
	// A succeeded campaign: the cash join's fund share is posted like any other.
	ok := f.campaign(2, 20, nil, nil)
	if _, err := proxy(ok, 2, f.leader); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gb.Settle(f.ctx, f.cid, ok.ID); err != nil {
		t.Fatal(err)
	}
	sum, err := f.pos.Fund.FundSummary(f.ctx, f.d, f.cid)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Balance.Equal(money.MustParse("10.00")) {
		t.Fatalf("fund %s", sum.Balance)
	}
	f.verify()
}

// TestCancel: a 邻长 closes a campaign early: paid joins are refunded, the
// campaign is closed, a second cancel or settle does nothing.
func TestCancel(t *testing.T) {
	f := setup(t)
	c := f.campaign(1, 10, nil, nil)
	j := f.mustJoin(c, "甲", "13300000001", "1号楼", 2)
	f.pay(j)
	r, err := f.gb.Cancel(f.ctx, f.cid, c.ID)
	if err != nil || !r.Now || r.Campaign.Status != groupbuy.Closed || r.Refunding != 1 {
		t.Fatalf("cancel: %+v %v", r, err)
	}
	if r, err := f.gb.Settle(f.ctx, f.cid, c.ID); err != nil || r.Now || r.Campaign.Status != groupbuy.Closed {
		t.Fatalf("settle after cancel: %+v %v", r, err)
	}
	if _, err := f.gb.SweepRefunds(f.ctx, -time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if st := f.joinRow(j.Join.ID).Status; st != groupbuy.JoinRefunded {
		t.Fatalf("join %s", st)
	}
	f.verify()
}
