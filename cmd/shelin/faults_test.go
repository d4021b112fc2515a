package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/devpg"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders/payment"
)

var longFaults = flag.Bool("faults.long", false, "run the long fault suite (more sales, more rounds of faults)")

const faultSandboxSecret = "fault-suite-sandbox-secret"

// faultRig is a private PostgreSQL with the demo loaded and a `shelin
// serve` process on it that the test kills and starts again.
type faultRig struct {
	t      *testing.T
	cl     *devpg.Cluster
	url    string
	addr   string
	srv    *exec.Cmd
	srvOut *syncBuffer
	mu     sync.Mutex
	fivexx atomic.Int64 // server errors answered while connections were killed
	phase  atomic.Value // the fault being applied
}

func newFaultRig(t *testing.T) *faultRig {
	e := newOpsEnv(t)
	cl, err := privateClusterAt(e.pgDir, e.pgPort)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Acquire(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Release() })
	if err := cl.CreateDB("shelin"); err != nil {
		t.Fatal(err)
	}
	r := &faultRig{t: t, cl: cl, url: cl.URL("shelin"), addr: freeAddr(t)}
	ctx := context.Background()
	if _, err := migrate(ctx, r.url); err != nil {
		t.Fatal(err)
	}
	cfg := validConfig()
	cfg.DatabaseURL, cfg.BaseURL = r.url, "http://"+r.addr
	began := time.Now()
	out, err := captureStdout(t, func() error { _, err := seedDemo(ctx, cfg); return err })
	if err != nil {
		t.Fatal(err)
	}
	// A first start talks: a line per step, then the total.
	if n := strings.Count(out, " loaded ("); n != len(demoSteps) || !strings.Contains(out, "demo: all loaded in") {
		t.Errorf("demo progress: %d step lines for %d steps:\n%s", n, len(demoSteps), out)
	}
	t.Logf("demo loaded in %s", time.Since(began).Round(100*time.Millisecond))
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

// start runs `shelin serve` and waits until it is ready.
func (r *faultRig) start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := exec.Command(shelinBinary(r.t), "serve")
	c.Env = append(os.Environ(), "DATABASE_URL="+r.url, "SHELIN_ADDR="+r.addr, "SHELIN_BASE_URL=http://"+r.addr,
		"SHELIN_SECRET_KEY="+strings.Repeat("cd", 32), "SHELIN_SANDBOX_SECRET="+faultSandboxSecret, "SHELIN_SANDBOX=on", "SHELIN_LOG_FORMAT=text")
	r.srvOut = &syncBuffer{}
	c.Stdout, c.Stderr = r.srvOut, r.srvOut
	if err := c.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.srv = c
	deadline := time.Now().Add(30 * time.Second)
	for ready(r.addr) != 200 {
		if time.Now().After(deadline) {
			r.t.Fatalf("serve not ready after 30 s:\n%s", r.srvOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL: no shutdown, no cleanup.
func (r *faultRig) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		r.srv.Process.Kill()
		r.srv.Wait()
		r.srv = nil
	}
}

func (r *faultRig) restartServer() {
	r.kill()
	r.start()
}

// do sends one request; a network error counts as status 0.
func (r *faultRig) do(method, path, token string, body []byte, headers ...string) (int, map[string]any) {
	req, err := http.NewRequest(method, "http://"+r.addr+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	cl := http.Client{Timeout: 20 * time.Second}
	res, err := cl.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// until repeats a request as a client with an Idempotency-Key does (a
// tablet on flaky Wi-Fi, a provider retrying its notification) until the
// server acknowledges it.
func (r *faultRig) until(what string, ok func(int) bool, send func() (int, map[string]any)) (map[string]any, int) {
	r.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	failures := 0
	for {
		st, b := send()
		if ok(st) {
			return b, failures
		}
		failures++
		if st >= 500 {
			r.t.Logf("%s: %d %v (%s)", what, st, b, r.phase.Load())
			if p, _ := r.phase.Load().(string); p == "connections killed" {
				r.fivexx.Add(1)
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: not acknowledged after 90 s (last %d %v)", what, st, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The fault suite: while tablets sell, their connections are killed
// mid-checkout, PostgreSQL restarts and the server is killed with SIGKILL
// and started again; payment notifications arrive duplicated, delayed,
// reordered, some while the server is dead; a wallet payment's queued
// delivery is interrupted by a SIGKILL. Afterwards every acknowledged sale
// exists once, nothing is paid twice or lost, stock and ledger agree,
// `shelin verify` holds and the queued delivery has resumed.
func TestFaultsLoseNothingAndPayNothingTwice(t *testing.T) {
	cash, qr, rounds := 24, 8, 1
	if *longFaults {
		cash, qr, rounds = 200, 60, 4
	}
	r := newFaultRig(t)
	ctx := context.Background()
	d, err := db.Open(ctx, r.url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var cid, stall, product string
	if err := d.Get(&cid, `SELECT id FROM communities WHERE slug=$1`, demoSlug); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&stall, `SELECT id FROM locations WHERE community_id=$1 AND kind='stall' ORDER BY name LIMIT 1`, cid); err != nil {
		t.Fatal(err)
	}
	// The test sells one product; give the stall plenty of it.
	if err := d.Get(&product, `SELECT s.product_id FROM stock_levels s JOIN products p ON p.id = s.product_id
		WHERE s.location_id=$1 AND p.active AND p.track_stock AND NOT p.perishable ORDER BY s.on_hand - s.reserved DESC LIMIT 1`, stall); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := inventory.New(d).Receive(ctx, tx, cid, inventory.ReceiptInput{LocationID: stall,
			Lines: []inventory.ReceiptLine{{ProductID: product, Qty: cash + qr + 1}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var available0, onHand0 int
	if err := d.QueryRow(`SELECT on_hand - reserved, on_hand FROM stock_levels WHERE location_id=$1 AND product_id=$2`, stall, product).Scan(&available0, &onHand0); err != nil {
		t.Fatal(err)
	}
	if available0 < cash+qr+1 {
		t.Fatalf("the demo stall has %d of its best-stocked product, the suite needs %d", available0, cash+qr+1)
	}
	var started time.Time
	if err := d.Get(&started, `SELECT now()`); err != nil {
		t.Fatal(err)
	}
	_, me := r.do("POST", "/api/v1/sessions", "", []byte(`{"login":"volunteer","password":"`+demoPassword+`"}`))
	token, _ := me["token"].(string)
	if token == "" {
		t.Fatalf("sign in: %v", me)
	}
	api := "/api/v1/communities/" + cid
	r.do("POST", api+"/shifts", token, []byte(`{"location_id":"`+stall+`","opening_float":"200.00"}`)) // 201, or 409 when the demo's is open
	created := func(st int) bool { return st == 201 }
	saleBody := func(method string) []byte {
		pay := `{"method":"cash","tendered":"500"}`
		if method == "qr" {
			pay = `{"method":"qr","provider":"sandbox"}`
		}
		return []byte(`{"location_id":"` + stall + `","lines":[{"product_id":"` + product + `","qty":1}],"payment":` + pay + `}`)
	}

	// Phase 1: cash sales from three tablets under faults.
	var acked atomic.Int64
	var failures atomic.Int64
	ids := sync.Map{}
	keys := make(chan string, cash)
	for i := 0; i < cash; i++ {
		keys <- fmt.Sprintf("fault-cash-%d", i)
	}
	close(keys)
	var tablets sync.WaitGroup
	for range 3 {
		tablets.Add(1)
		go func() {
			defer tablets.Done()
			for k := range keys {
				b, f := r.until("sale "+k, created, func() (int, map[string]any) {
					return r.do("POST", api+"/sales", token, saleBody("cash"), "Idempotency-Key", k)
				})
				failures.Add(int64(f))
				ids.Store(k, b["id"])
				acked.Add(1)
			}
		}()
	}
	waitAcked := func(n int64) {
		for acked.Load() < n && acked.Load() < int64(cash) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	killer, err := db.Open(ctx, r.cl.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close()
	step := int64(cash / (3 * rounds))
	for round := 0; round < rounds; round++ {
		base := int64(round) * 3 * step
		waitAcked(base + step/2)
		// Connections killed mid-checkout: the server runs the cut
		// transactions again itself, so no tablet sees an error.
		r.phase.Store("connections killed")
		for range 5 {
			if _, err := killer.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='shelin' AND pid <> pg_backend_pid()`); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
		}
		waitAcked(base + step)
		// PostgreSQL restarted under load.
		r.phase.Store("PostgreSQL restarting")
		if err := r.cl.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := r.cl.Start(); err != nil {
			t.Fatal(err)
		}
		waitAcked(base + 2*step)
		// The server killed with SIGKILL and started again.
		r.phase.Store("server killed")
		r.restartServer()
	}
	tablets.Wait()
	t.Logf("%d cash sales acknowledged; %d answers were failures the tablets retried", acked.Load(), failures.Load())
	if n := r.fivexx.Load(); n > 0 {
		t.Errorf("%d checkouts answered 5xx while connections were killed: the server should have run them again", n)
	}
	r.phase.Store("notifications")

	// Phase 2: QR sales; their notifications are duplicated, delayed and
	// reordered, and the server dies while they arrive.
	type qrSale struct{ id, payment, amount, token string }
	var qrs []qrSale
	for i := 0; i < qr+1; i++ {
		b, _ := r.until("qr sale", created, func() (int, map[string]any) {
			return r.do("POST", api+"/sales", token, saleBody("qr"), "Idempotency-Key", fmt.Sprintf("fault-qr-%d", i))
		})
		p := b["payment"].(map[string]any)
		payload := p["qr_payload"].(string)
		qrs = append(qrs, qrSale{b["id"].(string), p["id"].(string), b["total"].(string), payload[strings.LastIndex(payload, "/")+1:]})
	}
	// The last one is paid in the wallet: its notification is a queued job;
	// the server is killed right after, before it can deliver it.
	wallet := qrs[qr]
	qrs = qrs[:qr]
	if st, _ := r.do("POST", "/pay/"+wallet.token, "", nil); st != 303 && st != 200 {
		t.Fatalf("wallet pay: %d", st)
	}
	r.kill()
	type note struct {
		body []byte
		at   time.Time
	}
	var notes []note
	for i, s := range qrs {
		now := time.Now()
		b := payment.NotificationBody(fmt.Sprintf("evt_fault_%d", i), payment.PaymentSucceeded, s.payment, money.MustParse(s.amount), "txn-fault-"+s.id, now)
		notes = append(notes, note{b, now}, note{b, now}) // every notification twice
	}
	rand.Shuffle(len(notes), func(i, j int) { notes[i], notes[j] = notes[j], notes[i] })
	var providers sync.WaitGroup
	for i, n := range notes {
		providers.Add(1)
		go func() {
			defer providers.Done()
			time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond) // delayed
			r.until(fmt.Sprintf("notification %d", i), func(st int) bool { return st == 200 }, func() (int, map[string]any) {
				// A provider signs every retry afresh.
				return r.do("POST", "/api/v1/webhooks/sandbox", "", n.body, payment.SignatureHeader, payment.Sign([]byte(faultSandboxSecret), time.Now(), n.body))
			})
		}()
	}
	time.Sleep(300 * time.Millisecond) // some notifications find no server
	r.start()
	time.Sleep(500 * time.Millisecond)
	r.restartServer() // and the server dies once more while they arrive
	providers.Wait()

	// The wallet's queued delivery resumed after the restarts.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st string
		if err := d.Get(&st, `SELECT status FROM orders WHERE id=$1`, wallet.id); err != nil {
			t.Fatal(err)
		}
		if st == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wallet payment's queued notification was not delivered after the restart: order %s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every acknowledged sale exists, once.
	var orders, paid, wrongProceeds int
	if err := d.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status='paid'),
		count(*) FILTER (WHERE status='paid' AND (SELECT count(*) FROM fund_proceeds f WHERE f.source_id = o.id::text) <> 1)
		FROM orders o WHERE community_id=$1 AND created_at >= $2`, cid, started).Scan(&orders, &paid, &wrongProceeds); err != nil {
		t.Fatal(err)
	}
	if want := cash + qr + 1; orders != want || paid != want || wrongProceeds != 0 {
		t.Fatalf("orders %d, paid %d (want %d each); %d paid orders without exactly one proceeds posting", orders, paid, want, wrongProceeds)
	}
	n := 0
	ids.Range(func(_, v any) bool {
		var ok bool
		if err := d.Get(&ok, `SELECT EXISTS (SELECT 1 FROM orders WHERE id=$1 AND status='paid')`, v); err != nil || !ok {
			t.Errorf("acknowledged sale %v: exists %v, %v", v, ok, err)
		}
		n++
		return true
	})
	if n != cash {
		t.Fatalf("%d cash sales acknowledged, want %d", n, cash)
	}
	// Stock agrees: exactly the sold units left the stall, nothing stays reserved.
	var available, onHand int
	if err := d.QueryRow(`SELECT on_hand - reserved, on_hand FROM stock_levels WHERE location_id=$1 AND product_id=$2`, stall, product).Scan(&available, &onHand); err != nil {
		t.Fatal(err)
	}
	if sold := cash + qr + 1; onHand != onHand0-sold || available != available0-sold {
		t.Fatalf("stock: on hand %d → %d, available %d → %d, sold %d", onHand0, onHand, available0, available, sold)
	}
	// `shelin verify` holds.
	if out, err := captureStdout(t, func() error { return errorsJoin(ledgerVerify(ctx, d), stockVerify(ctx, d)) }); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// Nothing stays stuck in the queue.
	var stuck int
	if err := d.Get(&stuck, `SELECT count(*) FROM river_job WHERE state IN ('available','running','retryable') AND scheduled_at < now() - interval '5 seconds'`); err != nil {
		t.Fatal(err)
	}
	if stuck != 0 {
		t.Errorf("%d queued jobs did not resume", stuck)
	}

}
