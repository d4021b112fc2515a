package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"shelin/identity"
	"shelin/orders/payment"
)

// sseStatuses follows a sale's Server-Sent Events on one replica and sends
// every status it reads.
func sseStatuses(t *testing.T, ctx context.Context, base, path, token string) <-chan string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	out := make(chan string, 16)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var v struct{ Status string }
			if json.Unmarshal([]byte(data), &v) == nil {
				select {
				case out <- v.Status:
				default:
				}
			}
		}
	}()
	return out
}

// Three replicas on loopback, one database, requests spread round-robin:
// the tablet's live "paid" event arrives on the replica it listens to
// whichever replica receives the notification; a notification delivered to
// all three at once is booked once; an expiry runs once.
func TestThreeReplicasBehindARoundRobin(t *testing.T) {
	p := newPOSEnv(t, 10)
	b, srvB := startServer(t, p.DB, p.dbURL)
	c, srvC := startServer(t, p.DB, p.dbURL)
	replicas := []string{p.URL, b, c}
	vol := p.Tokens[identity.Volunteer]
	next := 0
	rr := func() string { next++; return replicas[next%3] }
	post := func(base, path, token string, body any, headers ...string) (int, map[string]any) {
		t.Helper()
		saved := p.URL
		p.URL = base
		defer func() { p.URL = saved }()
		return p.call("POST", path, token, body, headers...)
	}

	for round := 0; round < 3; round++ {
		st, sale := post(rr(), p.c()+"/sales", vol, map[string]any{"location_id": p.stall,
			"lines": []map[string]any{{"product_id": p.card, "qty": 1}}, "payment": map[string]any{"method": "qr", "provider": "sandbox"}},
			"Idempotency-Key", "rr-"+string(rune('a'+round)))
		if st != 201 {
			t.Fatalf("round %d: sale %d %v", round, st, sale)
		}
		id := sale["id"].(string)
		pay := sale["payment"].(map[string]any)
		ctx, cancel := context.WithCancel(context.Background())
		tablet := replicas[round%3] // the tablet listens here…
		events := sseStatuses(t, ctx, tablet, p.c()+"/sales/"+id+"/events", vol)
		if s := <-events; s != "awaiting_payment" {
			t.Fatalf("round %d: first event %q", round, s)
		}
		// …the wallet's notification reaches another replica, and the
		// provider repeats it to all three at once.
		now := time.Now()
		note := payment.NotificationBody("evt_rr_"+id, payment.PaymentSucceeded, pay["id"].(string), mustAmount("5.50"), "txn-"+id, now)
		sig := payment.Sign([]byte("test-sandbox-secret"), now, note)
		start := time.Now()
		if st, _ := post(replicas[(round+1)%3], "/api/v1/webhooks/sandbox", "", string(note), payment.SignatureHeader, sig); st != 200 {
			t.Fatalf("round %d: webhook %d", round, st)
		}
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", r+"/api/v1/webhooks/sandbox", strings.NewReader(string(note)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(payment.SignatureHeader, sig)
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}()
		}
		wg.Wait()
		// Without LISTEN/NOTIFY across replicas the stream polls every 15 s.
		deadline := time.After(5 * time.Second)
	wait:
		for {
			select {
			case s := <-events:
				if s == "paid" {
					break wait
				}
			case <-deadline:
				t.Fatalf("round %d: the tablet on replica %d saw no paid event within 5 s", round, round%3)
			}
		}
		t.Logf("round %d: paid on replica %d after %s", round, round%3, time.Since(start).Round(time.Millisecond))
		cancel()
		var booked int
		if err := p.DB.Get(&booked, `SELECT count(*) FROM fund_proceeds WHERE source_id=$1`, id); err != nil {
			t.Fatal(err)
		}
		if booked != 1 {
			t.Fatalf("round %d: proceeds booked %d times", round, booked)
		}
	}

	// An unpaid QR sale expires exactly once, whichever replica's worker
	// takes the job.
	p.Srv.POS().QRExpiry = time.Second
	srvB.POS().QRExpiry = time.Second
	srvC.POS().QRExpiry = time.Second
	st, sale := post(rr(), p.c()+"/sales", vol, map[string]any{"location_id": p.stall,
		"lines": []map[string]any{{"product_id": p.pastry, "qty": 2}}, "payment": map[string]any{"method": "qr", "provider": "sandbox"}},
		"Idempotency-Key", "rr-expire")
	if st != 201 {
		t.Fatalf("sale %d %v", st, sale)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var state string
		if err := p.DB.Get(&state, `SELECT status FROM orders WHERE id=$1`, sale["id"]); err != nil {
			t.Fatal(err)
		}
		if state == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after 20 s", state)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var jobs, attempts int
	if err := p.DB.QueryRow(`SELECT count(*), COALESCE(sum(attempt), 0) FROM river_job WHERE kind='pos_sale_expire' AND args->>'order_id'=$1`, sale["id"]).Scan(&jobs, &attempts); err != nil {
		t.Fatal(err)
	}
	var available int
	if err := p.DB.Get(&available, `SELECT on_hand - reserved FROM stock_levels WHERE product_id=$1 AND location_id=$2`, p.pastry, p.stall); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 || attempts != 1 || available != 10 {
		t.Fatalf("expiry: %d job(s), %d attempt(s), available %d (want 1, 1, 10)", jobs, attempts, available)
	}
}
