package pos_test

// The randomized whole-system test (issue 8, "Correctness that must be shown
// by tests"): workers run random interleavings of the stall's operations
// against the real database, an independent model (system_model_test.go)
// predicts every outcome from the rules, and at the end `Verify` holds and
// the model agrees to the cent, per sale, with the system.
//
//	go test -run System ./pos/                          # short run, a few hundred operations
//	go test -run System ./pos/ -seed 42 -system.ops 20000  # long run
//
// How the model stays exact under concurrency:
//   - operations on one sale hold that sale's model lock (different sales run
//     concurrently: stock, drawer, accounts and lots are shared); bursts fire
//     several calls on one sale at once and check that the combined outcome
//     is one the rules allow;
//   - jobs that touch every sale (expiry sweep, payment poll, refund sweep,
//     reservation sweep) run alone (a write lock), so the model can predict
//     them sale by sale;
//   - cash checkouts share the drawer; cash refunds and shift closes and
//     opens take it alone, so the drawer's cash is known exactly;
//   - insufficient_stock is accepted only when the model's lower bound of the
//     available stock (its own state less what checkouts in flight may have
//     taken) fell below the quantity at some moment of the call;
//   - the clock only moves forward; a decision that depends on the clock
//     (a sale's expiry) is made from readings before and after the call and,
//     when they straddle the expiry, either answer is accepted and recorded.
//
// Bugs the model found are reproduced by the small tests at the end of this
// file (TestSystemRestockRefundAfterDamagedUnitOfTheSameLine,
// TestSystemRightAmountAfterAWrongOneAndACancelIsHeld).

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

var (
	systemSeed    = flag.Uint64("seed", 0, "seed of the randomized whole-system test (0: from the time)")
	systemOps     = flag.Int("system.ops", 300, "operations of the randomized whole-system test")
	systemWorkers = flag.Int("system.workers", 5, "concurrent workers of the randomized whole-system test")
)

const okCode apperr.Code = "ok"

// simClock is the one clock of the stall, the inventory and the wallet; it
// only moves forward.
type simClock struct{ off atomic.Int64 }

func (c *simClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *simClock) advance(d time.Duration) { c.off.Add(int64(d)) }

type noteBody struct {
	id     string
	body   []byte
	amount int64
}

// mSale is a sale as the model knows it.
type mSale struct {
	mu         sync.Mutex
	id, number string
	paymentID  string
	token      string // sandbox pay page token
	method     string // cash, sandbox, static
	lines      []*mLine
	discount   int64
	total      int64
	status     string // orders.AwaitingPayment, Paid, Expired, Cancelled
	payStatus  string // pending, succeeded, held, expired, cancelled
	expiresAt  time.Time
	walletPaid bool
	walletShut bool  // the wallet payment was closed (sale ended)
	walletBack int64 // refunded by the wallet (refunds and held money)
	bodies     []noteBody
	delivered  map[string]bool
	// held money: at most one item for a wrong amount and one for money
	// that came after the sale ended
	mism, held  *mSuspense
	refunds     []*mRefund
	fromHeld    bool // completed by the treasurer from suspense
	earmarkOrig []int64
}

func (s *mSale) items() []*mSuspense {
	var out []*mSuspense
	for _, it := range []*mSuspense{s.mism, s.held} {
		if it != nil {
			out = append(out, it)
		}
	}
	return out
}

func (s *mSale) provider() string {
	if s.method == "cash" {
		return payment.Cash
	}
	return s.method
}

type mShift struct {
	id                  string
	float, advanced     int64
	cashSales, cashBack int64
}

func (sh *mShift) expected() int64 { return sh.float + sh.cashSales - sh.cashBack }

type basket struct {
	id      string
	product *mProduct
	held    bool
}

// inflight is a checkout (or completion from suspense) in flight: the stock
// it may take and the lowest availability the model could vouch for while it ran.
type inflight struct {
	own      map[*mProduct]int
	minLower map[*mProduct]int
}

type simT struct {
	t     *testing.T
	f     *fx
	seed  uint64
	clock *simClock
	skew  *inventory.Store // a replica whose clock runs two hours ahead

	global sync.RWMutex // per-sale operations: R; jobs over every sale: W
	drawer sync.RWMutex // cash checkouts: R; cash refunds, shift close/open: W

	mu       sync.Mutex // the model's shared state below
	products []*mProduct
	sales    []*mSale
	inflight map[*inflight]bool
	shift    *mShift
	closed   []string // closed shift ids
	baskets  []*basket
	// ledger flows the shift operations posted (debit positive)
	drawerFlow, bank, overShort, cashFloat int64
	projects                               []*mProject
	ledger                                 map[string]int64 // other accounts the fund operations moved
	earmarks                               []string
	percents                               []int64
	stats                                  map[string]int

	failures atomic.Int32
}

func cents(a money.Amount) int64 { return a.Cents() }
func yuan(c int64) string        { return money.FromCents(c).String() }

func (m *simT) fail(format string, args ...any) {
	m.t.Helper()
	if m.failures.Add(1) > 30 {
		return
	}
	m.t.Errorf("seed %d: "+format, append([]any{m.seed}, args...)...)
}

func (m *simT) count(what string) {
	m.mu.Lock()
	m.stats[what]++
	m.mu.Unlock()
}

// expect checks err against the outcomes the model allows (okCode: no
// error) and returns its code.
func (m *simT) expect(op string, err error, want ...apperr.Code) apperr.Code {
	m.t.Helper()
	got := okCode
	if err != nil {
		got = apperr.CodeOf(err)
	}
	for _, w := range want {
		if w == got {
			if got != okCode {
				m.count(op + " refused " + string(got))
			} else {
				m.count(op)
			}
			return got
		}
	}
	m.fail("%s: got %v (code %s), the model allows %v", op, err, got, want)
	return "mismatch"
}

// due says whether a sale's expiry had passed for the system, from clock
// readings before (t0) and after (t1) the call: surely, surely not, or maybe.
func due(exp, t0, t1 time.Time) (sure, maybe bool) {
	if !exp.After(t0) {
		return true, true
	}
	return false, !exp.After(t1)
}

func TestSystemRandomized(t *testing.T) {
	seed := *systemSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d), %d operations, %d workers", seed, seed, *systemOps, *systemWorkers)
	// A database of its own: the jobs it runs (refund sweep, expiry sweep,
	// poll) work across all communities, and other tests leave their own
	// pending work behind in the package's shared database.
	f := setupOn(t, dbtest.Fresh(t), 40, 80)
	artA := f.painting("100.00", "0.00", 6)  // consigned, maker 80 %, no cost
	artB := f.painting("120.00", "10.00", 5) // consigned, maker 80 %, cost 10
	clock := &simClock{}
	f.s.Now = clock.now
	f.s.Inventory.Now = clock.now
	f.sandbox.Now = clock.now
	skew := inventory.New(f.d)
	skew.Now = func() time.Time { return clock.now().Add(2 * time.Hour) }
	m := &simT{t: t, f: f, seed: seed, clock: clock, skew: skew, inflight: map[*inflight]bool{}, stats: map[string]int{}, ledger: map[string]int64{},
		earmarks: []string{"养老", "助餐", fund.General}, percents: []int64{50, 30, 20}}
	rules := make([]fund.RuleEarmark, len(m.earmarks))
	for i, e := range m.earmarks {
		rules[i] = fund.RuleEarmark{Name: e, Percent: money.FromCents(m.percents[i] * 100).Decimal()}
	}
	if _, err := f.s.Fund.SetRulesTx(f.ctx, f.cid, f.admin, rules); err != nil {
		t.Fatal(err)
	}
	f.tx(func(tx *sqlx.Tx) error { return payment.SaveStaticImage(f.ctx, tx, f.cid, "", tinyPNG(t), f.admin) })
	m.products = []*mProduct{
		{id: f.pastry, name: "pastry", price: 3800, cost: 2000, onHand: 40},
		{id: f.card, name: "card", price: 550, cost: 100, onHand: 80},
		{id: artA, name: "artA", price: 10000, cost: 0, maker: "王师傅", pct: 80, onHand: 6},
		{id: artB, name: "artB", price: 12000, cost: 1000, maker: "王师傅", pct: 80, onHand: 5},
	}
	m.openShift(rand.New(rand.NewPCG(seed, 99)))

	var wg sync.WaitGroup
	var next atomic.Int64
	workers := max(*systemWorkers, 1)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
			for next.Add(1) <= int64(*systemOps) && m.failures.Load() == 0 {
				m.step(rng)
			}
		}(w)
	}
	wg.Wait()
	t.Logf("seed %d: %d operations in %s", seed, *systemOps, time.Since(start).Round(time.Millisecond))
	if m.failures.Load() > 0 {
		return
	}
	m.drain()
	m.check()
	keys := make([]string, 0, len(m.stats))
	for k := range m.stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-45s %d\n", k, m.stats[k])
	}
	t.Logf("seed %d: outcomes\n%s", seed, b.String())
}

// step runs one random operation.
func (m *simT) step(rng *rand.Rand) {
	n := rng.IntN(100)
	switch {
	case n < 12:
		m.checkout(rng, "cash")
	case n < 24:
		m.checkout(rng, "sandbox")
	case n < 30:
		m.checkout(rng, "static")
	case n < 32:
		m.clock.advance(time.Duration(1+rng.IntN(4)) * time.Minute)
		m.count("clock advanced")
	case n < 34:
		m.sweepExpired()
	case n < 36:
		m.pollAwaiting()
	case n < 37:
		m.sweepRefunds()
	case n < 39:
		m.basketsAndSweep(rng)
	case n < 42:
		m.shiftOp(rng)
	case n < 46:
		m.receive(rng)
	case n < 49:
		m.fundOp(rng)
	default:
		s := m.pick(rng)
		if s == nil {
			return
		}
		m.global.RLock()
		defer m.global.RUnlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		m.saleOp(rng, s)
	}
}

func (m *simT) pick(rng *rand.Rand) *mSale {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sales) == 0 {
		return nil
	}
	// favour recent sales
	i := len(m.sales) - 1 - rng.IntN(min(len(m.sales), 12))
	if rng.IntN(3) == 0 {
		i = rng.IntN(len(m.sales))
	}
	return m.sales[i]
}

func (m *simT) saleOp(rng *rand.Rand, s *mSale) {
	n := rng.IntN(100)
	switch {
	case n < 14:
		m.pay(s)
	case n < 26:
		m.deliver(rng, s)
	case n < 30:
		m.wrongAmount(rng, s)
	case n < 34:
		m.poll(s)
	case n < 38:
		m.expire(s)
	case n < 42:
		m.cancel(s)
	case n < 48:
		m.confirmStatic(s)
	case n < 54:
		m.burst(rng, s)
	case n < 72:
		m.refund(rng, s)
	case n < 80:
		m.submitRefunds(s)
	case n < 88:
		m.refundHeld(rng, s)
	case n < 92:
		m.submitHeld(rng, s)
	default:
		m.completeHeld(rng, s)
	}
}

// ---- stock bounds ----

// beginTake registers stock a call may take and returns its record.
func (m *simT) beginTake(want map[*mProduct]int) *inflight {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := &inflight{own: want, minLower: map[*mProduct]int{}}
	for p, q := range want {
		in.minLower[p] = p.onHand - p.held - p.dec
		p.dec += q
	}
	m.inflight[in] = true
	for other := range m.inflight {
		for p := range other.own {
			if v := p.onHand - p.held - (p.dec - other.own[p]); v < other.minLower[p] {
				other.minLower[p] = v
			}
		}
	}
	return in
}

// endTake removes the record (m.mu held) and says whether a shortage was
// possible while the call ran.
func (m *simT) endTake(in *inflight) (shortPossible bool) {
	delete(m.inflight, in)
	for p, q := range in.own {
		p.dec -= q
		if in.minLower[p] < q {
			shortPossible = true
		}
	}
	return shortPossible
}

// ---- checkout ----

func (m *simT) checkout(rng *rand.Rand, method string) {
	k := 1 + rng.IntN(3)
	perm := rng.Perm(len(m.products))[:k]
	var lines []*mLine
	var in []pos.SaleLine
	want := map[*mProduct]int{}
	var subtotal int64
	for _, i := range perm {
		p := m.products[i]
		q := 1 + rng.IntN(3)
		if p.maker != "" {
			q = 1 + rng.IntN(2)
		}
		lines = append(lines, &mLine{product: p, qty: q})
		in = append(in, pos.SaleLine{ProductID: p.id, Qty: q})
		want[p] = q
		subtotal += p.price * int64(q)
	}
	var discount int64
	if rng.IntN(10) < 3 {
		if rng.IntN(3) == 0 {
			discount = rng.Int64N(subtotal + 1)
		} else {
			discount = rng.Int64N(subtotal/10 + 1)
		}
	}
	total, refusal := saleMoney(lines, discount)
	m.global.RLock() // locks in one order: global, then the drawer
	defer m.global.RUnlock()
	if method == "cash" {
		m.drawer.RLock()
		defer m.drawer.RUnlock()
	}
	m.mu.Lock()
	shift := m.shift
	m.mu.Unlock()

	input := pos.CheckoutInput{LocationID: m.f.stall, UserID: m.f.vol1, Lines: in, Method: "qr", Provider: method}
	if method == "cash" {
		input.Method, input.Provider = "cash", ""
		if rng.IntN(2) == 0 {
			tendered := money.FromCents(total + rng.Int64N(5000))
			input.Tendered = &tendered
		}
	}
	token := ""
	if discount > 0 {
		// the second person's PIN becomes a single-use token, consumed in
		// the sale's own transaction (as the API does)
		a, err := m.f.s.IssueApproval(m.f.ctx, m.f.cid, pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: m.f.vol1,
			UserID: m.f.vol2, PIN: "5678"})
		if m.expect("approval token for a discount", err, okCode) != okCode {
			return
		}
		token = a.Token
		d := money.FromCents(discount)
		input.Discount = &d
	}
	op := "checkout " + method
	var allowed []apperr.Code
	switch {
	case method == "cash" && shift == nil:
		allowed = []apperr.Code{apperr.Conflict}
	case refusal != "":
		allowed = []apperr.Code{apperr.Invalid}
	case method != "cash" && total == 0:
		allowed = []apperr.Code{apperr.Invalid}
	default:
		allowed = []apperr.Code{okCode, apperr.InsufficientStock}
	}
	var take *inflight
	if allowed[0] == okCode {
		take = m.beginTake(want)
	}
	t0 := m.clock.now()
	var sale *pos.Sale
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		in := input
		if token != "" {
			if in.ApproverID, err = pos.ConsumeApproval(m.f.ctx, tx, m.f.cid, m.f.vol1, pos.ActionDiscount, token); err != nil {
				return err
			}
		}
		sale, err = m.f.s.Checkout(m.f.ctx, tx, m.f.cid, in)
		return
	})
	t1 := m.clock.now()
	if token != "" && rng.IntN(3) == 0 {
		// a refused sale rolled its token back (the tablet may replay it);
		// a sale that went through used it up
		want := okCode
		if err == nil {
			want = apperr.Invalid
		}
		m.expect("approval token replayed", m.consumeAndRollBack(pos.ActionDiscount, token), want)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	short := false
	if take != nil {
		short = m.endTake(take)
	}
	code := m.expectLocked(op, err, allowed...)
	if code == apperr.InsufficientStock && !short {
		m.fail("%s %v: refused for stock although at least %v was available throughout", op, in, take.minLower)
	}
	if code == apperr.Invalid && refusal != "" && apperr.FieldOf(err) != refusal && !(refusal == "lines" && strings.HasPrefix(apperr.FieldOf(err), "lines")) {
		m.fail("%s: refused on field %q, the model expected %q (%v)", op, apperr.FieldOf(err), refusal, err)
	}
	if code != okCode {
		return
	}
	s := &mSale{id: sale.Order.ID, number: sale.Order.Number, paymentID: sale.Payment.ID, method: method, lines: lines,
		discount: discount, total: total, delivered: map[string]bool{}}
	if got := cents(sale.Order.Total); got != total {
		m.fail("%s %s: total %s, the model says %s", op, s.number, yuan(got), yuan(total))
	}
	byProduct := map[string]orders.Line{}
	for _, l := range sale.Order.Lines {
		byProduct[l.ProductID] = l
	}
	for _, l := range lines {
		got, ok := byProduct[l.product.id]
		if !ok || cents(got.NetAmount) != l.net || cents(got.CostAmount) != l.cost || cents(got.MakerShare) != l.maker ||
			cents(got.FeeAmount) != l.fee || cents(got.FundAmount) != l.fund || got.Qty != l.qty {
			m.fail("%s %s line %s: system net %s cost %s maker %s fee %s fund %s qty %d; model net %s cost %s maker %s fund %s qty %d (discount %s)",
				op, s.number, l.product.name, got.NetAmount, got.CostAmount, got.MakerShare, got.FeeAmount, got.FundAmount, got.Qty,
				yuan(l.net), yuan(l.cost), yuan(l.maker), yuan(l.fund), l.qty, yuan(discount))
		}
	}
	if method == "cash" {
		s.status, s.payStatus = orders.Paid, orders.PaymentSucceeded
		for _, l := range lines {
			l.product.onHand -= l.qty
		}
		m.shift.cashSales += total // the drawer's read lock keeps the shift open
	} else {
		s.status, s.payStatus = orders.AwaitingPayment, orders.PaymentPending
		for _, l := range lines {
			l.product.held += l.qty
		}
		if sale.Order.ExpiresAt == nil {
			m.fail("%s %s: no expiry", op, s.number)
		} else {
			s.expiresAt = *sale.Order.ExpiresAt
			lo, hi := t0.Add(10*time.Minute-time.Millisecond), t1.Add(10*time.Minute+time.Millisecond)
			if s.expiresAt.Before(lo) || s.expiresAt.After(hi) {
				m.fail("%s %s: expires at %s, the model says between %s and %s", op, s.number, s.expiresAt, lo, hi)
			}
		}
		if method == "sandbox" {
			if sale.Payment.QRPayload == nil || !strings.HasPrefix(*sale.Payment.QRPayload, "http://shelin.test/pay/") {
				m.fail("%s %s: QR payload %v", op, s.number, sale.Payment.QRPayload)
			} else {
				s.token = strings.TrimPrefix(*sale.Payment.QRPayload, "http://shelin.test/pay/")
			}
		}
	}
	if sale.Order.Status != s.status || sale.Payment.Status != s.payStatus {
		m.fail("%s %s: order %s payment %s, the model says %s %s", op, s.number, sale.Order.Status, sale.Payment.Status, s.status, s.payStatus)
	}
	m.sales = append(m.sales, s)
}

// expectLocked is expect with m.mu held.
func (m *simT) expectLocked(op string, err error, want ...apperr.Code) apperr.Code {
	m.t.Helper()
	got := okCode
	if err != nil {
		got = apperr.CodeOf(err)
	}
	for _, w := range want {
		if w == got {
			if got != okCode {
				m.stats[op+" refused "+string(got)]++
			} else {
				m.stats[op]++
			}
			return got
		}
	}
	m.fail("%s: got %v (code %s), the model allows %v", op, err, got, want)
	return "mismatch"
}

// consumeAndRollBack tries an approval token in a transaction that is then
// rolled back (the token stays as it was).
func (m *simT) consumeAndRollBack(action, token string) error {
	tx, err := m.f.d.Beginx()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // the point is to undo
	_, err = pos.ConsumeApproval(m.f.ctx, tx, m.f.cid, m.f.vol1, action, token)
	return err
}

// ---- the confirmation rules ----

// settleModel applies evidence of amount to s as the rules say and returns
// the outcome kind and hold reason (m.mu held).
func (m *simT) settleModel(s *mSale, amount int64) (string, string) {
	switch s.payStatus {
	case orders.PaymentSucceeded, orders.PaymentHeld:
		return pos.AlreadyKnown, ""
	}
	hold := func(reason string, end bool) (string, string) {
		slot := &s.held
		if reason == orders.HoldAmountMismatch {
			slot = &s.mism
		}
		if *slot != nil { // the same kind again is the same money
			return pos.AlreadyKnown, ""
		}
		*slot = &mSuspense{amount: amount, reason: reason, status: orders.SuspenseOpen}
		if end {
			s.payStatus = orders.PaymentHeld
		}
		return pos.HeldInSuspense, reason
	}
	if amount != s.total {
		return hold(orders.HoldAmountMismatch, false)
	}
	switch s.status {
	case orders.Expired:
		return hold(orders.HoldAfterExpired, true)
	case orders.Cancelled:
		return hold(orders.HoldAfterCancelled, true)
	}
	m.complete(s)
	return pos.Completed, ""
}

// complete marks an awaiting sale paid (m.mu held).
func (m *simT) complete(s *mSale) {
	s.status, s.payStatus = orders.Paid, orders.PaymentSucceeded
	for _, l := range s.lines {
		l.product.held -= l.qty
		l.product.onHand -= l.qty
	}
}

// end closes an awaiting sale (m.mu held).
func (m *simT) end(s *mSale, status string) {
	s.status, s.payStatus = status, status
	if s.method == "sandbox" {
		s.walletShut = true
	}
	for _, l := range s.lines {
		l.product.held -= l.qty
	}
}

// observe compares the system's view of a sale with the model's.
func (m *simT) observe(op string, s *mSale, sale *pos.Sale) {
	if sale == nil {
		return
	}
	if sale.Order.Status != s.status || sale.Payment.Status != s.payStatus {
		m.fail("%s %s: order %s payment %s, the model says %s %s", op, s.number, sale.Order.Status, sale.Payment.Status, s.status, s.payStatus)
	}
}

// statusOf reads the sale's order status from the system ("" when it cannot).
func (m *simT) statusOf(s *mSale) string {
	if sale := m.read(s); sale != nil {
		return sale.Order.Status
	}
	return ""
}

func (m *simT) read(s *mSale) *pos.Sale {
	sale, err := m.f.s.GetSale(m.f.ctx, m.f.d, m.f.cid, s.id)
	if err != nil {
		m.fail("get sale %s: %v", s.number, err)
		return nil
	}
	return sale
}

// ---- per-sale operations (sale locked) ----

func (m *simT) walletPay(s *mSale) error {
	_, err := m.f.sandbox.Pay(m.f.ctx, m.f.d, s.token)
	if err != nil {
		return err
	}
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	for i := len(m.f.sent) - 1; i >= 0; i-- {
		var n struct {
			ID   string `json:"id"`
			Data struct {
				PaymentID string       `json:"payment_id"`
				Amount    money.Amount `json:"amount"`
			} `json:"data"`
		}
		if json.Unmarshal(m.f.sent[i], &n) == nil && n.Data.PaymentID == s.paymentID {
			s.bodies = append(s.bodies, noteBody{id: n.ID, body: m.f.sent[i], amount: cents(n.Data.Amount)})
			return nil
		}
	}
	m.fail("the wallet paid %s but queued no notification", s.number)
	return nil
}

// pay: the customer taps "pay" in the sandbox wallet.
func (m *simT) pay(s *mSale) {
	if s.method != "sandbox" {
		return
	}
	t0 := m.clock.now()
	err := m.walletPay(s)
	t1 := m.clock.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	sure, maybe := due(s.expiresAt, t0, t1)
	var allowed []apperr.Code
	switch {
	case s.walletPaid:
		allowed = []apperr.Code{okCode} // paying twice has no second effect
	case s.walletShut || sure:
		allowed = []apperr.Code{apperr.Conflict}
	case maybe:
		allowed = []apperr.Code{okCode, apperr.Conflict}
	default:
		allowed = []apperr.Code{okCode}
	}
	if m.expectLocked("wallet pay", err, allowed...) == okCode {
		s.walletPaid = true
	}
}

func (m *simT) deliverBody(nb noteBody, signedAt time.Time) (int, error) {
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign([]byte(secret), signedAt, nb.body))
	st, _, _, err := m.f.s.HandleNotification(m.f.ctx, payment.Sandbox, h, nb.body)
	return st, err
}

// noteModel predicts a notification's answer (m.mu held).
func (m *simT) noteModel(s *mSale, nb noteBody) (int, apperr.Code) {
	if s.delivered[nb.id] {
		return http.StatusOK, okCode
	}
	s.delivered[nb.id] = true
	kind, reason := m.settleModel(s, nb.amount)
	if kind == pos.HeldInSuspense && reason == orders.HoldAmountMismatch {
		return http.StatusUnprocessableEntity, apperr.Invalid
	}
	return http.StatusOK, okCode
}

// deliver: a notification arrives (again, late, out of order; sometimes with
// a stale signature, which changes nothing).
func (m *simT) deliver(rng *rand.Rand, s *mSale) {
	if len(s.bodies) == 0 {
		return
	}
	nb := s.bodies[rng.IntN(len(s.bodies))]
	if rng.IntN(8) == 0 {
		st, err := m.deliverBody(nb, m.clock.now().Add(-10*time.Minute))
		if st != http.StatusBadRequest {
			m.fail("stale notification for %s answered %d", s.number, st)
		}
		m.expect("notification stale", err, apperr.Invalid)
		return
	}
	st, err := m.deliverBody(nb, m.clock.now())
	m.mu.Lock()
	defer m.mu.Unlock()
	wantSt, wantCode := m.noteModel(s, nb)
	m.expectLocked("notification", err, wantCode)
	if st != wantSt {
		m.fail("notification %s for %s answered %d, the model says %d", nb.id, s.number, st, wantSt)
	}
}

// wrongAmount: a notification reports another amount than the sale's.
func (m *simT) wrongAmount(rng *rand.Rand, s *mSale) {
	if s.method != "sandbox" {
		return
	}
	amount := s.total + 1 + rng.Int64N(500)
	if rng.IntN(2) == 0 && s.total > 1 {
		amount = 1 + rng.Int64N(s.total-1)
	}
	id := "evt_wrong_" + payment.Token()
	nb := noteBody{id: id, amount: amount,
		body: payment.NotificationBody(id, payment.PaymentSucceeded, s.paymentID, money.FromCents(amount), "sbx_wrong", m.clock.now())}
	st, err := m.deliverBody(nb, m.clock.now())
	m.mu.Lock()
	defer m.mu.Unlock()
	wantSt, wantCode := m.noteModel(s, nb)
	m.expectLocked("notification wrong amount", err, wantCode)
	if st != wantSt {
		m.fail("wrong-amount notification for %s answered %d, the model says %d", s.number, st, wantSt)
	}
	if rng.IntN(2) == 0 {
		s.bodies = append(s.bodies, nb) // delivered again later
	}
}

// poll asks the provider about the sale.
func (m *simT) poll(s *mSale) {
	sale, err := m.f.s.PollPayment(m.f.ctx, m.f.cid, s.id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("poll", err, okCode) != okCode {
		return
	}
	if s.status == orders.AwaitingPayment && s.method == "sandbox" && s.walletPaid {
		m.settleModel(s, s.total)
	}
	m.observe("poll", s, sale)
}

// expire runs the sale's expiry job.
func (m *simT) expire(s *mSale) {
	t0 := m.clock.now()
	expired, err := m.f.s.ExpireSale(m.f.ctx, m.f.cid, s.id)
	t1 := m.clock.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("expire", err, okCode) != okCode {
		return
	}
	m.expireModel("expire", s, expired, t0, t1)
	m.observe("expire", s, m.read(s))
}

// expireModel applies an expiry that reported expired (m.mu held).
func (m *simT) expireModel(op string, s *mSale, expired bool, t0, t1 time.Time) {
	if s.status != orders.AwaitingPayment {
		if expired {
			m.fail("%s expired %s, which is %s", op, s.number, s.status)
		}
		return
	}
	sure, maybe := due(s.expiresAt, t0, t1)
	switch {
	case !maybe:
		if expired {
			m.fail("%s expired %s before its time", op, s.number)
		}
	case s.method == "sandbox" && s.walletPaid:
		if expired {
			m.fail("%s expired %s, which the customer paid", op, s.number)
		}
		if sure || m.statusOf(s) == orders.Paid {
			m.complete(s)
		}
	case expired:
		m.end(s, orders.Expired)
	case sure:
		m.fail("%s did not expire %s, due at %s", op, s.number, s.expiresAt)
	}
}

// cancel: the customer walked away.
func (m *simT) cancel(s *mSale) {
	sale, err := m.f.s.Cancel(m.f.ctx, m.f.cid, s.id, m.f.vol1)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case s.status != orders.AwaitingPayment:
		m.expectLocked("cancel", err, apperr.Conflict)
	case s.method == "sandbox" && s.walletPaid:
		m.expectLocked("cancel paid", err, apperr.Conflict)
		m.complete(s)
		m.observe("cancel paid", s, sale)
	default:
		if m.expectLocked("cancel", err, okCode) == okCode {
			m.end(s, orders.Cancelled)
			m.observe("cancel", s, sale)
		}
	}
}

// confirmStatic: a volunteer says the 收款码 money arrived (also after expiry).
func (m *simT) confirmStatic(s *mSale) {
	var out pos.Outcome
	var sale *pos.Sale
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		sale, out, err = m.f.s.ConfirmStatic(m.f.ctx, tx, m.f.cid, s.id, m.f.vol2)
		return
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.method != "static" {
		m.expectLocked("confirm static of "+s.method, err, apperr.Conflict)
		return
	}
	if m.expectLocked("confirm static", err, okCode) != okCode {
		return
	}
	kind, reason := m.settleModel(s, s.total)
	if out.Kind != kind || out.Reason != reason {
		m.fail("confirm static %s: outcome %s %s, the model says %s %s", s.number, out.Kind, out.Reason, kind, reason)
	}
	if out.Kind == pos.HeldInSuspense && out.Suspense != nil {
		s.held.id = out.Suspense.ID
	}
	m.observe("confirm static", s, sale)
}

// burst fires several calls on one sale at once.
func (m *simT) burst(rng *rand.Rand, s *mSale) {
	var wg sync.WaitGroup
	run := func(fns ...func()) {
		for _, fn := range fns {
			wg.Add(1)
			go func() { defer wg.Done(); fn() }()
		}
		wg.Wait()
	}
	switch {
	case s.method != "cash" && s.status == orders.Paid && rng.IntN(2) == 0:
		m.burstRefunds(rng, s)
	case s.method == "sandbox" && len(s.bodies) > 0 && s.bodies[0].amount == s.total:
		// the same notification three times, and a poll, at once
		nb := s.bodies[0]
		sts := make([]int, 3)
		errs := make([]error, 4)
		fns := []func(){}
		for i := 0; i < 3; i++ {
			fns = append(fns, func() { sts[i], errs[i] = m.deliverBody(nb, m.clock.now()) })
		}
		fns = append(fns, func() { _, errs[3] = m.f.s.PollPayment(m.f.ctx, m.f.cid, s.id) })
		run(fns...)
		m.mu.Lock()
		defer m.mu.Unlock()
		for i, err := range errs {
			m.expectLocked("burst notify+poll", err, okCode)
			if i < 3 && sts[i] != http.StatusOK {
				m.fail("burst: notification for %s answered %d", s.number, sts[i])
			}
		}
		if s.status == orders.AwaitingPayment {
			s.delivered[nb.id] = true
			m.settleModel(s, s.total)
		}
		m.observe("burst notify+poll", s, m.read(s))
	case s.method == "sandbox" && s.status == orders.AwaitingPayment && !s.walletPaid && !s.walletShut:
		// the customer pays while the volunteer cancels
		var payErr, cancelErr error
		t0 := m.clock.now()
		run(func() { payErr = m.walletPay(s) }, func() { _, cancelErr = m.f.s.Cancel(m.f.ctx, m.f.cid, s.id, m.f.vol1) })
		t1 := m.clock.now()
		m.mu.Lock()
		defer m.mu.Unlock()
		_, maybe := due(s.expiresAt, t0, t1)
		payCode := m.expectLocked("burst pay vs cancel: pay", payErr, okCode, apperr.Conflict)
		if payCode == okCode {
			s.walletPaid = true
			m.expectLocked("burst pay vs cancel: cancel", cancelErr, apperr.Conflict)
			if m.statusOf(s) == orders.Paid { // settled by the cancel, or still awaiting its notification
				m.complete(s)
			}
		} else {
			if !maybe && cancelErr != nil {
				m.fail("burst pay vs cancel on %s: both refused (pay %v, cancel %v)", s.number, payErr, cancelErr)
			}
			if m.expectLocked("burst pay vs cancel: cancel", cancelErr, okCode) == okCode {
				m.end(s, orders.Cancelled)
			}
		}
		m.observe("burst pay vs cancel", s, m.read(s))
	case s.method == "static" && s.status == orders.AwaitingPayment:
		// two volunteers confirm while a third cancels
		outs := make([]pos.Outcome, 2)
		errs := make([]error, 3)
		confirm := func(i int) func() {
			return func() {
				errs[i] = m.f.try(func(tx *sqlx.Tx) (err error) {
					_, outs[i], err = m.f.s.ConfirmStatic(m.f.ctx, tx, m.f.cid, s.id, m.f.vol2)
					return
				})
			}
		}
		run(confirm(0), confirm(1), func() { _, errs[2] = m.f.s.Cancel(m.f.ctx, m.f.cid, s.id, m.f.vol1) })
		m.mu.Lock()
		defer m.mu.Unlock()
		m.expectLocked("burst confirm x2 vs cancel: confirm", errs[0], okCode)
		m.expectLocked("burst confirm x2 vs cancel: confirm", errs[1], okCode)
		kinds := map[string]int{}
		var held *pos.Outcome
		for i := range outs {
			kinds[outs[i].Kind]++
			if outs[i].Kind == pos.HeldInSuspense {
				held = &outs[i]
			}
		}
		switch {
		case kinds[pos.Completed] == 1 && kinds[pos.AlreadyKnown] == 1:
			m.expectLocked("burst confirm x2 vs cancel: cancel", errs[2], apperr.Conflict)
			m.complete(s)
		case kinds[pos.HeldInSuspense] == 1 && kinds[pos.AlreadyKnown] == 1:
			m.expectLocked("burst confirm x2 vs cancel: cancel", errs[2], okCode)
			m.end(s, orders.Cancelled)
			if kind, reason := m.settleModel(s, s.total); kind != pos.HeldInSuspense || reason != held.Reason {
				m.fail("burst on %s: held for %s, the model says %s %s", s.number, held.Reason, kind, reason)
			}
			if held.Suspense != nil {
				s.held.id = held.Suspense.ID
			}
		default:
			m.fail("burst confirm x2 vs cancel on %s: outcomes %+v, cancel %v", s.number, kinds, errs[2])
		}
		m.observe("burst confirm x2 vs cancel", s, m.read(s))
	}
}

// refund gives back random units of random lines, restocked or not.
func (m *simT) refund(rng *rand.Rand, s *mSale) {
	var items []orders.RefundItem
	want := map[*mLine]int{}
	for _, l := range s.lines {
		if left := l.qty - l.refunded; left > 0 && rng.IntN(2) == 0 {
			q := 1 + rng.IntN(left)
			want[l] = q
			items = append(items, orders.RefundItem{ProductID: l.product.id, Qty: q})
		}
	}
	if len(items) == 0 {
		return
	}
	restock := rng.IntN(3) > 0
	// The model works the refund out on copies.
	copies := map[*mLine]*mLine{}
	var rls []mRefundLine
	var amount int64
	for _, l := range s.lines {
		q, ok := want[l]
		if !ok {
			continue
		}
		c := *l
		copies[l] = &c
		rl := refundLine(&c, q, restock)
		rl.line = l
		rls = append(rls, rl)
		amount += rl.amount
	}
	if s.method == "cash" {
		m.drawer.Lock()
		defer m.drawer.Unlock()
	}
	a, err := m.f.s.IssueApproval(m.f.ctx, m.f.cid, pos.ApprovalRequest{Action: pos.ActionRefund, RequestedBy: m.f.vol1,
		UserID: m.f.vol2, PIN: "5678"})
	if m.expect("approval token for a refund", err, okCode) != okCode {
		return
	}
	var r *orders.Refund
	err = m.f.try(func(tx *sqlx.Tx) (err error) {
		approver, err := pos.ConsumeApproval(m.f.ctx, tx, m.f.cid, m.f.vol1, pos.ActionRefund, a.Token)
		if err != nil {
			return err
		}
		r, err = m.f.s.Refund(m.f.ctx, tx, m.f.cid, s.id, pos.RefundInput{Items: items, Reason: "客人退货", Restock: restock,
			UserID: m.f.vol1, ApproverID: approver})
		return
	})
	if rng.IntN(3) == 0 {
		want := okCode
		if err == nil {
			want = apperr.Invalid
		}
		m.expect("approval token replayed", m.consumeAndRollBack(pos.ActionRefund, a.Token), want)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	op := "refund " + s.method
	switch {
	case s.status != orders.Paid:
		m.expectLocked(op+" of unpaid", err, apperr.Conflict)
		return
	case amount == 0:
		m.expectLocked(op+" of nothing", err, apperr.Invalid)
		return
	case s.method == "cash" && (m.shift == nil || m.shift.expected() < amount):
		m.expectLocked(op+" from a drawer without the cash", err, apperr.Conflict)
		return
	}
	if m.expectLocked(op, err, okCode) != okCode {
		return
	}
	mr := &mRefund{id: r.ID, lines: rls, amount: amount, restock: restock, status: orders.PaymentPending, seq: len(s.refunds)}
	if s.method != "sandbox" {
		mr.status = orders.PaymentSucceeded
	}
	if cents(r.Amount) != amount || r.Status != mr.status {
		m.fail("%s %s: amount %s status %s, the model says %s %s", op, s.number, r.Amount, r.Status, yuan(amount), mr.status)
	}
	m.compareRefundLines(op, s, r, mr)
	for l, c := range copies {
		*l = *c
	}
	for i := range mr.lines {
		if restock {
			mr.lines[i].line.product.onHand += mr.lines[i].qty
		}
	}
	if s.method == "cash" {
		m.shift.cashBack += amount
	}
	s.refunds = append(s.refunds, mr)
}

// refundPlan is a refund a tablet asks for.
type refundPlan struct {
	items   []orders.RefundItem
	want    map[*mLine]int
	restock bool
}

func (m *simT) randomPlan(rng *rand.Rand, s *mSale) refundPlan {
	p := refundPlan{want: map[*mLine]int{}, restock: rng.IntN(3) > 0}
	for _, l := range s.lines {
		if left := l.qty - l.refunded; left > 0 && rng.IntN(2) == 0 {
			q := 1 + rng.IntN(left)
			p.want[l] = q
			p.items = append(p.items, orders.RefundItem{ProductID: l.product.id, Qty: q})
		}
	}
	return p
}

// applyPlan works a refund out on state (copies of the sale's lines),
// changing them only when the rules let it through.
func applyPlan(s *mSale, state map[*mLine]*mLine, p refundPlan) (code apperr.Code, rls []mRefundLine, amount int64) {
	if s.status != orders.Paid {
		return apperr.Conflict, nil, 0
	}
	trial := map[*mLine]*mLine{}
	for _, l := range s.lines {
		q, ok := p.want[l]
		if !ok {
			continue
		}
		c := *state[l]
		if q > c.qty-c.refunded {
			return apperr.Invalid, nil, 0
		}
		rl := refundLine(&c, q, p.restock)
		rl.line = l
		rls = append(rls, rl)
		amount += rl.amount
		trial[l] = &c
	}
	if amount == 0 {
		return apperr.Invalid, nil, 0
	}
	for l, c := range trial {
		state[l] = c
	}
	return okCode, rls, amount
}

func refundMatches(r *orders.Refund, rls []mRefundLine, amount int64) bool {
	if r == nil || cents(r.Amount) != amount || len(r.Lines) != len(rls) {
		return false
	}
	got := map[string]orders.RefundLine{}
	for _, l := range r.Lines {
		got[l.ProductID] = l
	}
	for _, ml := range rls {
		g := got[ml.line.product.id]
		if g.Qty != ml.qty || cents(g.Amount) != ml.amount || cents(g.Cost) != ml.cost || cents(g.Maker) != ml.maker ||
			cents(g.Fee) != ml.fee || cents(g.Fund) != ml.fund || cents(g.WriteOff) != ml.writeOff {
			return false
		}
	}
	return true
}

// burstRefunds: two tablets refund lines of one (QR) sale at the same
// moment. Whichever goes first, the outcome must be the rules' outcome of one
// of the two orders, to the cent.
func (m *simT) burstRefunds(rng *rand.Rand, s *mSale) {
	plans := [2]refundPlan{m.randomPlan(rng, s), m.randomPlan(rng, s)}
	if len(plans[0].items) == 0 || len(plans[1].items) == 0 {
		return
	}
	type outcome struct {
		codes  [2]apperr.Code
		rls    [2][]mRefundLine
		amount [2]int64
		state  map[*mLine]*mLine
		first  int
	}
	var orders2 []outcome
	for _, first := range []int{0, 1} {
		st := map[*mLine]*mLine{}
		for _, l := range s.lines {
			c := *l
			st[l] = &c
		}
		o := outcome{state: st, first: first}
		for _, i := range []int{first, 1 - first} {
			o.codes[i], o.rls[i], o.amount[i] = applyPlan(s, st, plans[i])
		}
		orders2 = append(orders2, o)
	}
	var rs [2]*orders.Refund
	var errs [2]error
	var wg sync.WaitGroup
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.f.try(func(tx *sqlx.Tx) (err error) {
				rs[i], err = m.f.s.Refund(m.f.ctx, tx, m.f.cid, s.id, pos.RefundInput{Items: plans[i].items, Reason: "两台平板同时退货",
					Restock: plans[i].restock, UserID: m.f.vol1, ApproverID: m.f.vol2})
				return
			})
		}()
	}
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	var codes [2]apperr.Code
	for i, err := range errs {
		codes[i] = m.expectLocked("burst refunds", err, okCode, apperr.Invalid)
	}
	actualFirst := -1 // when both went through: which the ledger booked first
	if codes[0] == okCode && codes[1] == okCode {
		var first string
		if err := m.f.d.Get(&first, `SELECT fr.reversal_id FROM fund_reversals fr JOIN ledger_postings lp ON lp.entry_id = fr.entry_id
			WHERE fr.community_id = $1 AND fr.reversal_id IN ($2, $3) GROUP BY fr.reversal_id ORDER BY min(lp.id) LIMIT 1`,
			m.f.cid, rs[0].ID, rs[1].ID); err != nil {
			m.fail("burst refunds on %s: order of the reversals: %v", s.number, err)
			return
		}
		actualFirst = 0
		if first == rs[1].ID {
			actualFirst = 1
		}
	}
	for _, o := range orders2 {
		if o.codes != codes || (actualFirst >= 0 && o.first != actualFirst) {
			continue
		}
		match := true
		for i := range rs {
			if codes[i] == okCode && !refundMatches(rs[i], o.rls[i], o.amount[i]) {
				match = false
			}
		}
		if !match {
			continue
		}
		for l, c := range o.state {
			*l = *c
		}
		for _, i := range []int{o.first, 1 - o.first} {
			if codes[i] != okCode {
				continue
			}
			mr := &mRefund{id: rs[i].ID, lines: o.rls[i], amount: o.amount[i], restock: plans[i].restock, status: orders.PaymentPending, seq: len(s.refunds)}
			if s.method == "static" {
				mr.status = orders.PaymentSucceeded
			}
			if rs[i].Status != mr.status {
				m.fail("burst refunds on %s: status %s, the model says %s", s.number, rs[i].Status, mr.status)
			}
			if plans[i].restock {
				for _, rl := range o.rls[i] {
					rl.line.product.onHand += rl.qty
				}
			}
			s.refunds = append(s.refunds, mr)
		}
		return
	}
	m.fail("burst refunds on %s: answers %v (%v, %v) match neither order of the rules (plans %+v / %+v)", s.number, codes, errs[0], errs[1], plans[0].items, plans[1].items)
}

func (m *simT) compareRefundLines(op string, s *mSale, r *orders.Refund, mr *mRefund) {
	got := map[string]orders.RefundLine{}
	for _, l := range r.Lines {
		got[l.ProductID] = l
	}
	if len(got) != len(mr.lines) {
		m.fail("%s %s: %d refund lines, the model says %d", op, s.number, len(got), len(mr.lines))
	}
	for _, ml := range mr.lines {
		g := got[ml.line.product.id]
		if g.Qty != ml.qty || cents(g.Amount) != ml.amount || cents(g.Cost) != ml.cost || cents(g.Maker) != ml.maker ||
			cents(g.Fee) != ml.fee || cents(g.Fund) != ml.fund || cents(g.WriteOff) != ml.writeOff {
			m.fail("%s %s line %s: system qty %d amount %s cost %s maker %s fee %s fund %s write-off %s; model qty %d amount %s cost %s maker %s fee %s fund %s write-off %s",
				op, s.number, ml.line.product.name, g.Qty, g.Amount, g.Cost, g.Maker, g.Fee, g.Fund, g.WriteOff,
				ml.qty, yuan(ml.amount), yuan(ml.cost), yuan(ml.maker), yuan(ml.fee), yuan(ml.fund), yuan(ml.writeOff))
		}
	}
}

// walletRefund predicts the wallet's answer to a refund of amount (m.mu held).
func (s *mSale) walletRefund(amount int64) bool {
	if s.walletPaid && s.walletBack+amount <= s.total {
		s.walletBack += amount
		return true
	}
	return false
}

// submitRefunds runs the outbox job of the sale's pending refunds.
func (m *simT) submitRefunds(s *mSale) {
	for _, r := range s.refunds {
		if r.status != orders.PaymentPending {
			continue
		}
		err := m.f.s.SubmitRefund(m.f.ctx, m.f.cid, r.id)
		m.mu.Lock()
		if m.expectLocked("submit refund", err, okCode) == okCode {
			m.refundAnswer(s, r)
		}
		m.mu.Unlock()
		m.checkRefundStatus(s, r)
		return
	}
}

func (m *simT) refundAnswer(s *mSale, r *mRefund) {
	if s.walletRefund(r.amount) {
		r.status = orders.PaymentSucceeded
	} else {
		r.status = orders.PaymentFailed
		m.stats["refund refused by the wallet"]++
	}
}

func (m *simT) checkRefundStatus(s *mSale, r *mRefund) {
	got, err := orders.GetRefund(m.f.ctx, m.f.d, m.f.cid, r.id)
	if err != nil {
		m.fail("get refund %s: %v", r.id, err)
		return
	}
	if got.Status != r.status {
		m.fail("refund %s of %s: %s, the model says %s", r.id, s.number, got.Status, r.status)
	}
}

// refundHeld: the treasurer gives held money back.
func (m *simT) refundHeld(rng *rand.Rand, s *mSale) {
	it := m.pickItem(rng, s)
	if it == nil {
		return
	}
	var got *orders.Suspense
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		got, err = m.f.s.RefundHeld(m.f.ctx, tx, m.f.cid, it.id, m.f.admin)
		return
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if it.status != orders.SuspenseOpen {
		m.expectLocked("refund held", err, apperr.Conflict)
		return
	}
	if m.expectLocked("refund held", err, okCode) != okCode {
		return
	}
	it.status = orders.SuspenseRefunding
	if s.method == "static" {
		it.status = orders.SuspenseRefunded
	}
	if got.Status != it.status {
		m.fail("refund held %s: %s, the model says %s", s.number, got.Status, it.status)
	}
}

// submitHeld runs the outbox job of a held refund.
func (m *simT) submitHeld(rng *rand.Rand, s *mSale) {
	if it := m.pickItem(rng, s); it != nil {
		m.submitItem(s, it)
	}
}

func (m *simT) submitItem(s *mSale, it *mSuspense) {
	err := m.f.s.SubmitSuspenseRefund(m.f.ctx, m.f.cid, it.id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("submit held refund", err, okCode) != okCode {
		return
	}
	m.heldAnswer(s, it)
	m.checkSuspense("submit held refund", s)
}

func (m *simT) heldAnswer(s *mSale, it *mSuspense) {
	if it.status != orders.SuspenseRefunding {
		return
	}
	if s.walletRefund(it.amount) {
		it.status = orders.SuspenseRefunded
	} else {
		it.status = orders.SuspenseOpen
		m.stats["held refund refused by the wallet"]++
	}
}

func (m *simT) checkSuspense(op string, s *mSale) {
	var rows []struct {
		ID     string       `db:"id"`
		Amount money.Amount `db:"amount"`
		Reason string       `db:"reason"`
		Status string       `db:"status"`
	}
	if err := m.f.d.Select(&rows, `SELECT id, amount, reason, status FROM payment_suspense WHERE payment_id=$1`, s.paymentID); err != nil {
		m.fail("%s %s: suspense: %v", op, s.number, err)
		return
	}
	if len(rows) != len(s.items()) {
		m.fail("%s %s: %d suspense items %+v, the model holds %d", op, s.number, len(rows), rows, len(s.items()))
		return
	}
	for _, r := range rows {
		it := s.held
		if r.Reason == orders.HoldAmountMismatch {
			it = s.mism
		}
		if it == nil || cents(r.Amount) != it.amount || r.Reason != it.reason || r.Status != it.status || (it.id != "" && it.id != r.ID) {
			m.fail("%s %s: suspense %s %s %s %s, the model says %+v", op, s.number, r.ID, r.Amount, r.Reason, r.Status, it)
		}
	}
}

// pickItem chooses a held item of the sale and learns its id.
func (m *simT) pickItem(rng *rand.Rand, s *mSale) *mSuspense {
	items := s.items()
	if len(items) == 0 {
		return nil
	}
	it := items[rng.IntN(len(items))]
	if it.id == "" {
		if err := m.f.d.Get(&it.id, `SELECT id FROM payment_suspense WHERE payment_id=$1 AND (reason = 'amount_mismatch') = $2`,
			s.paymentID, it.reason == orders.HoldAmountMismatch); err != nil {
			m.fail("suspense of %s: %v", s.number, err)
			return nil
		}
	}
	return it
}

// completeHeld: the treasurer completes the sale from held money.
func (m *simT) completeHeld(rng *rand.Rand, s *mSale) {
	it := m.pickItem(rng, s)
	if it == nil {
		return
	}
	want := map[*mProduct]int{}
	for _, l := range s.lines {
		want[l.product] = l.qty
	}
	take := m.beginTake(want)
	var sale *pos.Sale
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		sale, err = m.f.s.CompleteHeld(m.f.ctx, tx, m.f.cid, it.id, m.f.admin)
		return
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	short := m.endTake(take)
	switch {
	case it.status != orders.SuspenseOpen || it.amount != s.total:
		m.expectLocked("complete held", err, apperr.Conflict)
		return
	}
	code := m.expectLocked("complete held", err, okCode, apperr.InsufficientStock)
	if code == apperr.InsufficientStock && !short {
		m.fail("complete held %s: refused for stock although at least %v was available throughout", s.number, take.minLower)
	}
	if code != okCode {
		return
	}
	s.status, s.payStatus, s.fromHeld = orders.Paid, orders.PaymentSucceeded, true
	it.status = orders.SuspenseCompleted
	for _, l := range s.lines {
		l.product.onHand -= l.qty
	}
	m.observe("complete held", s, sale)
}

// ---- the drawer ----

func (m *simT) openShift(rng *rand.Rand) {
	float := rng.Int64N(20) * 1000
	var sh *pos.Shift
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		sh, err = m.f.s.Open(m.f.ctx, tx, m.f.cid, pos.OpenShift{LocationID: m.f.stall, UserID: m.f.vol1, OpeningFloat: money.FromCents(float)})
		return
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shift != nil {
		m.expectLocked("open shift while one is open", err, apperr.Conflict)
		return
	}
	if m.expectLocked("open shift", err, okCode) != okCode {
		return
	}
	m.shift = &mShift{id: sh.ID, float: float, advanced: float}
	m.drawerFlow += float
	m.cashFloat -= float
}

func (m *simT) shiftOp(rng *rand.Rand) {
	m.drawer.Lock()
	defer m.drawer.Unlock()
	m.mu.Lock()
	sh := m.shift
	m.mu.Unlock()
	if sh == nil || rng.IntN(6) == 0 {
		m.openShift(rng)
		return
	}
	if rng.IntN(8) == 0 && len(m.closed) > 0 {
		_, err := m.closeShift(m.closed[rng.IntN(len(m.closed))], money.Zero)
		m.expect("close a closed shift", err, apperr.Conflict)
		return
	}
	counted := sh.expected()
	if rng.IntN(3) == 0 {
		counted = max(counted+rng.Int64N(1001)-500, 0)
	}
	variance := counted - sh.expected()
	if rng.IntN(3) == 0 { // hand the drawer over to the next volunteer
		var closed, opened *pos.Shift
		err := m.f.try(func(tx *sqlx.Tx) (err error) {
			closed, opened, err = m.f.s.Handover(m.f.ctx, tx, m.f.cid, sh.id, money.FromCents(counted), m.f.vol1, m.f.vol2, "")
			return
		})
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.expectLocked("handover", err, okCode) != okCode {
			return
		}
		m.checkClosed("handover", closed, sh, counted, variance, 0)
		m.drawerFlow += variance
		m.overShort -= variance
		m.closed = append(m.closed, sh.id)
		m.shift = &mShift{id: opened.ID, float: counted, advanced: sh.advanced}
		return
	}
	closed, err := m.closeShift(sh.id, money.FromCents(counted))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("close shift", err, okCode) != okCode {
		return
	}
	floatBack := min(sh.advanced, counted)
	deposit := counted - floatBack
	m.checkClosed("close shift", closed, sh, counted, variance, deposit)
	m.drawerFlow += variance - floatBack - deposit
	m.overShort -= variance
	m.cashFloat += floatBack
	m.bank += deposit
	m.closed = append(m.closed, sh.id)
	m.shift = nil
}

func (m *simT) closeShift(id string, counted money.Amount) (*pos.Shift, error) {
	var closed *pos.Shift
	err := m.f.try(func(tx *sqlx.Tx) (err error) {
		closed, err = m.f.s.Close(m.f.ctx, tx, m.f.cid, id, counted, m.f.vol1)
		return
	})
	return closed, err
}

func (m *simT) checkClosed(op string, got *pos.Shift, sh *mShift, counted, variance, deposit int64) {
	if got.ExpectedCash == nil || cents(*got.ExpectedCash) != sh.expected() || got.Variance == nil || cents(*got.Variance) != variance ||
		got.Deposited == nil || cents(*got.Deposited) != deposit || got.CashSales == nil || cents(*got.CashSales) != sh.cashSales ||
		got.CashRefunds == nil || cents(*got.CashRefunds) != sh.cashBack {
		m.fail("%s: expected %v variance %v deposited %v sales %v refunds %v; model expected %s (float %s, sales %s, refunds %s) counted %s variance %s deposit %s",
			op, got.ExpectedCash, got.Variance, got.Deposited, got.CashSales, got.CashRefunds, yuan(sh.expected()), yuan(sh.float),
			yuan(sh.cashSales), yuan(sh.cashBack), yuan(counted), yuan(variance), yuan(deposit))
	}
}

// ---- jobs over every sale (run alone) ----

func (m *simT) awaiting() []*mSale {
	var out []*mSale
	for _, s := range m.sales {
		if s.status == orders.AwaitingPayment {
			out = append(out, s)
		}
	}
	return out
}

func (m *simT) sweepExpired() {
	m.global.Lock()
	defer m.global.Unlock()
	t0 := m.clock.now()
	n, err := m.f.s.SweepExpired(m.f.ctx, 1000)
	t1 := m.clock.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("sweep expired sales", err, okCode) != okCode {
		return
	}
	lo, hi := 0, 0
	touched := m.awaiting()
	for _, s := range touched {
		sure, maybe := due(s.expiresAt, t0, t1)
		if !maybe {
			continue
		}
		if s.method == "sandbox" && s.walletPaid {
			if sure || m.statusOf(s) == orders.Paid {
				m.complete(s)
			}
			continue
		}
		if sure {
			lo++
			hi++
			m.end(s, orders.Expired)
		} else if m.statusOf(s) == orders.Expired {
			hi++
			m.end(s, orders.Expired)
		}
	}
	if n < lo || n > hi {
		m.fail("sweep expired %d sales, the model says %d–%d", n, lo, hi)
	}
	m.observeAll("sweep expired sales", touched)
}

func (m *simT) pollAwaiting() {
	m.global.Lock()
	defer m.global.Unlock()
	n, err := m.f.s.PollAwaiting(m.f.ctx, 0, 1000)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("poll awaiting", err, okCode) != okCode {
		return
	}
	want := 0
	touched := m.awaiting()
	for _, s := range touched {
		if s.method == "sandbox" && s.walletPaid {
			m.complete(s)
			want++
		}
	}
	if n != want {
		m.fail("poll confirmed %d sales, the model says %d", n, want)
	}
	m.observeAll("poll awaiting", touched)
}

func (m *simT) sweepRefunds() {
	m.global.Lock()
	defer m.global.Unlock()
	n, err := m.f.s.SweepRefunds(m.f.ctx, 0, 1000)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("sweep refunds", err, okCode) != okCode {
		return
	}
	want := 0
	for _, s := range m.sales {
		var pending []*mRefund
		created := map[*mRefund]time.Time{}
		for _, r := range s.refunds {
			if r.status == orders.PaymentPending {
				pending = append(pending, r)
				if got, err := orders.GetRefund(m.f.ctx, m.f.d, m.f.cid, r.id); err == nil {
					created[r] = got.CreatedAt
				} else {
					m.fail("get refund %s: %v", r.id, err)
				}
			}
		}
		// the sweep takes them oldest first
		sort.SliceStable(pending, func(i, j int) bool { return created[pending[i]].Before(created[pending[j]]) })
		for _, r := range pending {
			m.refundAnswer(s, r)
			want++
		}
	}
	if n != want {
		m.fail("the refund sweep submitted %d refunds, the model says %d", n, want)
	}
}

// basketsAndSweep holds a basket of stock the way another channel would (a
// reservation with its own expiry) and sweeps expired reservations with a
// replica's clock two hours ahead: the baskets go, the sales' stock stays.
func (m *simT) basketsAndSweep(rng *rand.Rand) {
	m.global.Lock()
	defer m.global.Unlock()
	if rng.IntN(2) == 0 {
		p := m.products[rng.IntN(2)]
		var res inventory.Reservation
		err := m.f.try(func(tx *sqlx.Tx) (err error) {
			res, err = m.f.s.Inventory.Reserve(m.f.ctx, tx, m.f.cid, m.f.stall, []inventory.Line{{ProductID: p.id, Qty: 1}}, "basket", m.clock.now().Add(time.Minute))
			return
		})
		m.mu.Lock()
		defer m.mu.Unlock()
		want := okCode
		if p.onHand-p.held < 1 {
			want = apperr.InsufficientStock
		}
		if m.expectLocked("basket", err, want) == okCode {
			p.held++
			m.baskets = append(m.baskets, &basket{id: res.ID, product: p, held: true})
		}
		return
	}
	n, err := m.skew.SweepExpired(m.f.ctx, 1000)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("reservation sweep", err, okCode) != okCode {
		return
	}
	want := 0
	for _, b := range m.baskets {
		if b.held {
			b.held = false
			b.product.held--
			want++
		}
	}
	if n != want {
		m.fail("the reservation sweep released %d reservations, the model says %d (baskets)", n, want)
	}
	m.checkStock("reservation sweep")
}

func (m *simT) observeAll(op string, sales []*mSale) {
	for _, s := range sales {
		m.observe(op, s, m.read(s))
	}
}

func (m *simT) checkStock(op string) {
	for _, p := range m.products {
		l, err := m.f.s.Inventory.LevelOf(m.f.ctx, m.f.d, m.f.cid, p.id, m.f.stall)
		if err != nil {
			m.fail("%s: level of %s: %v", op, p.name, err)
			continue
		}
		if l.OnHand != p.onHand || l.Reserved != p.held {
			m.fail("%s: %s on hand %d reserved %d, the model says %d %d", op, p.name, l.OnHand, l.Reserved, p.onHand, p.held)
		}
	}
}

// receive: more goods arrive at the stall.
func (m *simT) receive(rng *rand.Rand) {
	p := m.products[rng.IntN(len(m.products))]
	q := 1 + rng.IntN(12)
	m.global.RLock()
	defer m.global.RUnlock()
	err := m.f.try(func(tx *sqlx.Tx) error {
		_, err := m.f.s.Inventory.Receive(m.f.ctx, tx, m.f.cid, inventory.ReceiptInput{LocationID: m.f.stall,
			Lines: []inventory.ReceiptLine{{ProductID: p.id, Qty: q}}})
		return err
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expectLocked("receive goods", err, okCode) == okCode {
		p.onHand += q
	}
}

// ---- the fund's projects ----

// mProject is a residents' project the fund side runs alongside the stall:
// no fund share (so that the sales' lots stay whole), crowdfunded by
// residents in cash and paid out from the bank, which only shift closes fill.
type mProject struct {
	id                             string
	budget, crowdfunded, disbursed int64
}

func (m *simT) fundOp(rng *rand.Rand) {
	m.drawer.Lock() // the bank: shift closes fill it, disbursements empty it
	defer m.drawer.Unlock()
	f := m.f
	if len(m.projects) < 3 || rng.IntN(10) == 0 {
		budget := 10000 + rng.Int64N(200000)
		var p fund.Project
		err := f.try(func(tx *sqlx.Tx) (err error) {
			p, err = f.s.Fund.ProposeProject(f.ctx, tx, f.cid, fund.ProjectInput{Title: fmt.Sprintf("楼道灯 %d", len(m.projects)+1),
				Budget: money.FromCents(budget), ProposedBy: f.vol1})
			if err != nil {
				return err
			}
			p, err = f.s.Fund.ApproveProject(f.ctx, tx, f.cid, p.ID, f.admin, time.Time{})
			return err
		})
		if m.expect("project proposed and approved", err, okCode) == okCode {
			m.projects = append(m.projects, &mProject{id: p.ID, budget: budget})
		}
		return
	}
	pr := m.projects[rng.IntN(len(m.projects))]
	if rng.IntN(2) == 0 {
		still := pr.budget - pr.crowdfunded
		amount := 1 + rng.Int64N(max(still/2, 1))
		if rng.IntN(6) == 0 {
			amount = still + 1 + rng.Int64N(1000)
		}
		err := f.try(func(tx *sqlx.Tx) error {
			_, _, err := f.s.Fund.Contribute(f.ctx, tx, f.cid, pr.id, fund.ContributionInput{Amount: money.FromCents(amount), Method: "cash",
				Contributor: "居民", CollectedBy: f.vol2})
			return err
		})
		want := okCode
		if amount > still {
			want = apperr.Conflict
		}
		if m.expect("contribution", err, want) == okCode {
			pr.crowdfunded += amount
			m.mu.Lock()
			m.ledger["contributions:cash"] += amount
			m.ledger["project:"+pr.id] -= amount
			m.mu.Unlock()
		}
		return
	}
	balance := pr.crowdfunded - pr.disbursed
	amount := 1 + rng.Int64N(max(balance, 1))
	if rng.IntN(6) == 0 {
		amount = balance + 1 + rng.Int64N(1000)
	}
	err := f.try(func(tx *sqlx.Tx) error {
		_, _, err := f.s.Fund.Disburse(f.ctx, tx, f.cid, pr.id, fund.DisbursementInput{Amount: money.FromCents(amount), Payee: "五金店", CreatedBy: f.admin})
		return err
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	want := okCode
	switch {
	case amount > balance:
		want = apperr.Conflict // the project does not hold it
	case amount > m.bank:
		want = apperr.Conflict // the bank does not hold it
	}
	if m.expectLocked("disbursement", err, want) == okCode {
		pr.disbursed += amount
		m.bank -= amount
		m.ledger["project:"+pr.id] += amount
	}
}

// ---- the end ----

// drain runs the outbox jobs that are left, as the queue would.
func (m *simT) drain() {
	for _, s := range m.sales {
		m.submitRefunds(s)
		for _, r := range s.refunds {
			if r.status == orders.PaymentPending {
				m.submitRefunds(s)
			}
		}
		for _, it := range s.items() {
			if it.status == orders.SuspenseRefunding {
				m.submitItem(s, it)
			}
		}
	}
}

func (m *simT) check() {
	f := m.f
	rep, err := f.s.Verify(f.ctx, f.cid)
	if err != nil {
		m.fail("verify: %v", err)
	} else if !rep.OK {
		m.fail("verify: %d problems:\n%s", len(rep.Problems), strings.Join(rep.Problems, "\n"))
	}
	if rep.Sales != len(m.sales) {
		m.fail("verify counted %d sales, the model %d", rep.Sales, len(m.sales))
	}
	m.checkStock("end")

	// earmark accounts in posting order (account id order)
	var order []string
	if err := f.d.Select(&order, `SELECT key FROM ledger_accounts WHERE community_id=$1 AND kind='fund_earmark' ORDER BY id`, f.cid); err != nil {
		m.fail("earmark accounts: %v", err)
	}

	// ledger totals the model expects (stored balances: debit positive)
	want := map[string]int64{}
	acct := func(kind, key string, amount int64) { want[kind+":"+key] += amount }
	acct("cash_drawer", f.stall, m.drawerFlow)
	acct("bank", "", m.bank)
	acct("cash_over_short", "", m.overShort)
	acct("cash_float", "", m.cashFloat)
	for k, v := range m.ledger {
		want[k] += v
	}
	for _, s := range m.sales {
		m.checkSale(s, order, acct)
	}
	var rows []struct {
		Kind    string       `db:"kind"`
		Key     string       `db:"key"`
		Balance money.Amount `db:"balance"`
	}
	if err := f.d.Select(&rows, `SELECT kind, key, balance FROM ledger_accounts WHERE community_id=$1`, f.cid); err != nil {
		m.fail("accounts: %v", err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Kind+":"+r.Key] = cents(r.Balance)
	}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		mark := ""
		if got[k] != want[k] {
			mark = "   <-- differs"
			m.fail("account %s: %s, the model says %s", k, yuan(got[k]), yuan(want[k]))
		}
		fmt.Fprintf(&b, "  %-50s %12s %12s%s\n", k, yuan(got[k]), yuan(want[k]), mark)
	}
	m.t.Logf("seed %d: accounts (system, model)\n%s", m.seed, b.String())
}

// checkSale compares one sale with the system and adds its money to the
// expected account balances.
func (m *simT) checkSale(s *mSale, order []string, acct func(kind, key string, amount int64)) {
	f := m.f
	sale := m.read(s)
	if sale == nil {
		return
	}
	m.observe("end", s, sale)
	var refunded int64
	for _, r := range s.refunds {
		refunded += r.amount
	}
	if cents(sale.Order.RefundedTotal) != refunded {
		m.fail("%s: refunded %s, the model says %s", s.number, sale.Order.RefundedTotal, yuan(refunded))
	}
	byProduct := map[string]orders.Line{}
	for _, l := range sale.Order.Lines {
		byProduct[l.ProductID] = l
	}
	for _, l := range s.lines {
		if got := byProduct[l.product.id].RefundedQty; got != l.refunded {
			m.fail("%s %s: %d refunded, the model says %d", s.number, l.product.name, got, l.refunded)
		}
		var sold, back int
		if err := f.d.Get(&sold, `SELECT COALESCE(-sum(qty), 0) FROM stock_movements WHERE community_id=$1 AND ref=$2 AND product_id=$3 AND kind='sale'`,
			f.cid, s.number, l.product.id); err != nil {
			m.fail("movements: %v", err)
		}
		if err := f.d.Get(&back, `SELECT COALESCE(sum(qty), 0) FROM stock_movements WHERE community_id=$1 AND ref=$2 AND product_id=$3 AND kind='refund_restock'`,
			f.cid, s.number+"/R", l.product.id); err != nil {
			m.fail("movements: %v", err)
		}
		wantSold := 0
		if s.status == orders.Paid {
			wantSold = l.qty
		}
		if sold != wantSold || back != l.restock {
			m.fail("%s %s: sold %d restocked %d, the model says %d %d", s.number, l.product.name, sold, back, wantSold, l.restock)
		}
	}
	// refunds, one by one
	got, err := orders.Refunds(f.ctx, f.d, s.id)
	if err != nil {
		m.fail("refunds of %s: %v", s.number, err)
	}
	if len(got) != len(s.refunds) {
		m.fail("%s: %d refunds, the model says %d", s.number, len(got), len(s.refunds))
	} else {
		byID := map[string]*mRefund{}
		for _, r := range s.refunds {
			byID[r.id] = r
		}
		for i := range got {
			r := byID[got[i].ID]
			if r == nil {
				m.fail("%s: refund %s unknown to the model", s.number, got[i].ID)
				continue
			}
			if got[i].Status != r.status || got[i].Restock != r.restock {
				m.fail("%s refund %s: %s restock %v, the model says %s %v", s.number, r.id, got[i].Status, got[i].Restock, r.status, r.restock)
			}
			m.compareRefundLines("end", s, &got[i], r)
		}
	}
	m.checkSuspense("end", s)

	prov := s.provider()
	arrival := func(amount int64) {
		if s.method == "cash" {
			acct("cash_drawer", f.stall, amount)
		} else {
			acct("provider_clearing", prov, amount)
		}
	}
	// held money
	for _, it := range s.items() {
		arrival(it.amount)
		acct("customer_refunds_payable", "", -it.amount)
		switch it.status {
		case orders.SuspenseRefunded:
			acct("customer_refunds_payable", "", it.amount)
			arrival(-it.amount)
		case orders.SuspenseCompleted:
			acct("customer_refunds_payable", "", it.amount) // the proceeds' debit
		}
	}
	if s.status != orders.Paid || s.total == 0 {
		return
	}
	// proceeds
	if !s.fromHeld {
		arrival(s.total)
	}
	var cost, maker, fundNet, writeOff int64
	for _, l := range s.lines {
		cost += l.cost
		maker += l.maker
		fundNet += l.fund
	}
	acct("supplier_payable", "", -cost)
	acct("maker_payable", "王师傅", -maker)
	orig := splitLR(fundNet, m.percents)
	held := map[string]int64{}
	for i, e := range m.earmarks {
		held[e] = orig[i]
	}
	for _, r := range s.refunds {
		for _, l := range r.lines {
			acct("supplier_payable", "", l.cost)
			acct("maker_payable", "王师傅", l.maker)
			writeOff += l.writeOff
		}
		acct("fund_deficit", "", sumWriteOff(r))
		switch {
		case s.method == "cash":
			acct("cash_drawer", f.stall, -r.amount)
		case s.method == "static":
			acct("provider_clearing", prov, -r.amount)
		default:
			acct("customer_refunds_payable", "", -r.amount)
			if r.status == orders.PaymentSucceeded {
				acct("customer_refunds_payable", "", r.amount)
				acct("provider_clearing", prov, -r.amount)
			}
		}
		// the refund's fund part out of the lots, by what each still holds
		var names []string
		var weights []int64
		for _, e := range order {
			if held[e] > 0 {
				names = append(names, e)
				weights = append(weights, held[e])
			}
		}
		for i, part := range splitLR(r.fund(), weights) {
			held[names[i]] -= part
		}
		fundNet -= r.fund()
	}
	for e, v := range held {
		acct("fund_earmark", e, -v)
	}
	posted, err := f.s.Fund.SaleFund(f.ctx, f.d, f.cid, fund.SourceSale, s.id)
	if err != nil {
		m.fail("fund of %s: %v", s.number, err)
		return
	}
	if cents(posted.Net) != fundNet || cents(posted.WriteOff) != writeOff || !posted.Deficit.IsZero() {
		m.fail("%s: fund %s write-off %s deficit %s, the model says %s %s 0.00", s.number, posted.Net, posted.WriteOff, posted.Deficit, yuan(fundNet), yuan(writeOff))
	}
	if cents(sale.FundAmount) != fundNet {
		m.fail("%s: the sale shows %s for the fund, the model says %s", s.number, sale.FundAmount, yuan(fundNet))
	}
	gotEm := map[string]int64{}
	for _, e := range posted.Earmarks {
		gotEm[e.Name] = cents(e.Amount)
	}
	for e, v := range held {
		if gotEm[e] != v {
			m.fail("%s: earmark %s holds %s, the model says %s (all: %v)", s.number, e, yuan(gotEm[e]), yuan(v), posted.Earmarks)
		}
	}
}

func sumWriteOff(r *mRefund) int64 {
	var w int64
	for _, l := range r.lines {
		w += l.writeOff
	}
	return w
}

// ---- bugs the randomized test found (minimal reproductions) ----

// A line of two pastries (¥38, cost ¥20, fund ¥18 each). The first comes back
// damaged (not restocked): its cost stays payable, so the loss (¥38) is taken
// from the line's fund share: all of it (¥36), ¥2 written off. The second
// comes back whole and is restocked: its cost (¥20) comes back from the
// supplier, and its fund part (¥18) — already spent on the first unit's loss
// — must come from the write-off. Before dbddf76 the refund was refused
// (422 parts.fund: "the sale's fund share still holds only ¥0.00"): a
// customer returning an undamaged unit could not be refunded (and with other
// lines in the sale, the ¥18 was silently taken from another line's share).
func TestSystemRestockRefundAfterDamagedUnitOfTheSameLine(t *testing.T) {
	f := setup(t, 5, 0)
	f.openShift("100.00")
	s := f.mustSell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 2})
	if _, err := f.refund(s.Order.ID, false, orders.RefundItem{ProductID: f.pastry, Qty: 1}); err != nil {
		t.Fatalf("damaged unit: %v", err)
	}
	if _, err := f.refund(s.Order.ID, true, orders.RefundItem{ProductID: f.pastry, Qty: 1}); err != nil {
		t.Fatalf("the second pastry, returned whole and restocked, cannot be refunded: %v", err)
	}
	if f.account("supplier_payable", "") != "20.00" || f.fundBalance().String() != "0.00" || f.account("fund_deficit", "") != "20.00" {
		t.Fatalf("supplier %s fund %s write-off %s, want 20.00 0.00 20.00", f.account("supplier_payable", ""), f.fundBalance(), f.account("fund_deficit", ""))
	}
	if l := f.level(f.pastry); l.OnHand != 4 {
		t.Fatalf("stock %+v", l)
	}
	f.verifyLedger()
}

// A wrong-amount notification opens a suspense item and the sale waits on;
// the sale is then cancelled while the customer's real payment (the right
// amount) is confirmed by a verified notification. That money must be held
// in suspense like any payment after a cancel. Before dbddf76 settle's hold
// found the payment's earlier (wrong-amount) suspense item and answered
// already_known (orders.Hold kept one item per payment): the webhook said
// 200, the ¥38 was not booked and the payment stayed "cancelled".
func TestSystemRightAmountAfterAWrongOneAndACancelIsHeld(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	wrong := payment.NotificationBody("evt_wrong_"+s.Payment.ID, payment.PaymentSucceeded, s.Payment.ID, money.MustParse("37.00"), "sbx_x", time.Now())
	if st, err := f.deliver(wrong, time.Now(), secret); st != http.StatusUnprocessableEntity || !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("wrong amount: %d %v", st, err)
	}
	if _, err := f.s.Cancel(f.ctx, f.cid, s.Order.ID, f.vol1); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	f.tx(func(tx *sqlx.Tx) error { // the wallet took the money (its close raced the customer's tap)
		_, err := tx.Exec(`UPDATE sandbox_payments SET status='paid', paid_at=now(), txn_id='sbx_real_'||$1 WHERE merchant_ref=$1`, s.Payment.MerchantRef)
		return err
	})
	right := payment.NotificationBody("evt_right_"+s.Payment.ID, payment.PaymentSucceeded, s.Payment.ID, money.MustParse("38.00"), "sbx_real_"+s.Payment.MerchantRef, time.Now())
	if st, err := f.deliver(right, time.Now(), secret); st != http.StatusOK || err != nil {
		t.Fatalf("right amount: %d %v", st, err)
	}
	if got := f.account("customer_refunds_payable", ""); got != "75.00" {
		t.Fatalf("held %s, want 75.00 (37.00 reported wrongly + 38.00 paid after the cancel)", got)
	}
	f.verifyLedger()
}
