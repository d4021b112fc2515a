package groupbuy_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

func refusal(err error) string {
	var r *groupbuy.Refusal
	if errors.As(err, &r) {
		return r.Key
	}
	return ""
}

// TestRush: 2,000 concurrent joins of one unit on a campaign capped at 500:
// exactly 500 are held; the rest are refused as full; unpaid joins expire
// and free their units for others; exactly 500 can be paid.
func TestRush(t *testing.T) {
	f := setup(t)
	c := f.campaign(20, 500, nil, nil)
	const n = 2000
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		joined []*groupbuy.Joined
		full   atomic.Int64
		other  atomic.Int64
	)
	start := make(chan struct{})
	began := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			j, err := f.join(c, fmt.Sprintf("邻居%d", i), fmt.Sprintf("139%08d", i), fmt.Sprintf("%d号楼", i%12+1), 1)
			switch {
			case err == nil:
				mu.Lock()
				joined = append(joined, j)
				mu.Unlock()
			case refusal(err) == "full":
				full.Add(1)
			default:
				other.Add(1)
				t.Errorf("join %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("2000 joins on a 500 cap in %v", time.Since(began))
	if len(joined) != 500 || full.Load() != 1500 || other.Load() != 0 {
		t.Fatalf("joined %d, full %d, other %d; want 500, 1500, 0", len(joined), full.Load(), other.Load())
	}
	if got := f.get(c); got.HeldQty != 500 || got.PaidQty != 0 {
		t.Fatalf("held %d paid %d", got.HeldQty, got.PaidQty)
	}
	// 300 pay; the other 200 never do and expire.
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	r.Shuffle(len(joined), func(i, k int) { joined[i], joined[k] = joined[k], joined[i] })
	var pw sync.WaitGroup
	for _, j := range joined[:300] {
		pw.Add(1)
		go func() {
			defer pw.Done()
			b, err := f.payInWallet(j)
			if err != nil {
				t.Error(err)
				return
			}
			if st, err := f.deliver(b); err != nil || st != http.StatusOK {
				t.Errorf("deliver: %d %v", st, err)
			}
		}()
	}
	pw.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if _, err := f.join(c, "迟到", "13800000001", "1号楼", 1); refusal(err) != "full" {
		t.Fatalf("a join on a full campaign: %v", err)
	}
	f.advance(16 * time.Minute)
	if _, err := f.gb.SweepExpired(f.ctx, 5000); err != nil {
		t.Fatal(err)
	}
	var exp int
	if err := f.d.GetContext(f.ctx, &exp, `SELECT count(*) FROM groupbuy_joins WHERE campaign_id=$1 AND status='expired'`, c.ID); err != nil {
		t.Fatal(err)
	}
	if exp != 200 {
		t.Fatalf("expired %d, want 200", exp)
	}
	if got := f.get(c); got.HeldQty != 300 || got.PaidQty != 300 {
		t.Fatalf("after expiry: held %d paid %d", got.HeldQty, got.PaidQty)
	}
	// An expired join's wallet page no longer takes money.
	if _, err := f.payInWallet(joined[300]); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("paying an expired join: %v", err)
	}
	// The freed 200 units go to others, concurrently with 100 more who find it full.
	var more []*groupbuy.Joined
	full.Store(0)
	var w2 sync.WaitGroup
	for i := range 300 {
		w2.Add(1)
		go func() {
			defer w2.Done()
			j, err := f.join(c, "二轮", fmt.Sprintf("137%08d", i), "2号楼", 1)
			if err == nil {
				mu.Lock()
				more = append(more, j)
				mu.Unlock()
			} else if refusal(err) == "full" {
				full.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	w2.Wait()
	if len(more) != 200 || full.Load() != 100 {
		t.Fatalf("second round: joined %d, full %d", len(more), full.Load())
	}
	for _, j := range more {
		f.pay(j)
	}
	if got := f.get(c); got.HeldQty != 500 || got.PaidQty != 500 {
		t.Fatalf("end: held %d paid %d", got.HeldQty, got.PaidQty)
	}
	if got := f.escrow(); !got.Equal(money.MustParse("15000.00")) {
		t.Fatalf("escrow %s, want 15000.00", got)
	}
	f.verify()
}

// TestPerPersonLimit: twenty concurrent joins by one phone number with a
// limit of 3 per person: exactly three hold.
func TestPerPersonLimit(t *testing.T) {
	f := setup(t)
	three := 3
	c := f.campaign(5, 100, &three, nil)
	var ok, per atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.join(c, "王阿姨", "138 1234 5678", "3号楼", 1)
			switch {
			case err == nil:
				ok.Add(1)
			case refusal(err) == "per_person":
				per.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 3 || per.Load() != 17 {
		t.Fatalf("ok %d, refused %d", ok.Load(), per.Load())
	}
	for _, tc := range []struct {
		in   groupbuy.JoinInput
		want string
	}{
		{groupbuy.JoinInput{Name: "李", Phone: "12345", Qty: 1, Provider: "sandbox"}, "phone"},
		{groupbuy.JoinInput{Name: "", Phone: "13800001111", Qty: 1, Provider: "sandbox"}, "name"},
		{groupbuy.JoinInput{Name: "李", Phone: "13800001111", Qty: 0, Provider: "sandbox"}, "qty"},
		{groupbuy.JoinInput{Name: "李", Phone: "13800001111", Qty: 1, Provider: "cash"}, "provider"},
		{groupbuy.JoinInput{Name: "李", Phone: "13800001111", Qty: 4, Provider: "sandbox"}, "per_person"},
	} {
		_, err := f.join(c, tc.in.Name, tc.in.Phone, "", tc.in.Qty)
		if tc.in.Provider != "sandbox" {
			_, err = f.gb.Join(f.ctx, nil, c.Token, tc.in) // refused before any write
		}
		if refusal(err) != tc.want {
			t.Errorf("%+v: %v, want %s", tc.in, err, tc.want)
		}
	}
}

// TestLeftAndFull: asking for more than is left says how many are left.
func TestLeftAndFull(t *testing.T) {
	f := setup(t)
	c := f.campaign(1, 5, nil, nil)
	f.mustJoin(c, "甲", "13500000001", "1号楼", 3)
	if _, err := f.join(c, "乙", "13500000002", "1号楼", 3); refusal(err) != "left" {
		t.Fatalf("3 of 2 left: %v", err)
	} else {
		var r *groupbuy.Refusal
		errors.As(err, &r)
		if r.N != 2 {
			t.Fatalf("left %d", r.N)
		}
	}
	f.mustJoin(c, "乙", "13500000002", "1号楼", 2)
	if _, err := f.join(c, "丙", "13500000003", "1号楼", 1); refusal(err) != "full" {
		t.Fatalf("full: %v", err)
	}
	f.verify()
}
