package web_test

import (
	"strings"
	"testing"
	"time"

	"shelin/identity"
	"shelin/orders/payment"
	"shelin/web"
)

func sandboxSale(p *posEnv, key string) (int, map[string]any) {
	p.t.Helper()
	return p.sale(key, map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "sandbox"}})
}

// SHELIN_SANDBOX=off (serve's default): the sandbox provider does not
// exist, its wallet pages and webhook answer 404, and the rest sells.
func TestSandboxOffIsNotAvailable(t *testing.T) {
	p := newPOSEnv(t, 10, func(c *web.Config) { c.Sandbox, c.SandboxSecret = false, "" })
	if p.Srv.Sandbox() != nil {
		t.Fatal("the sandbox wallet exists with the sandbox off")
	}
	st, b := sandboxSale(p, "sb-off")
	wantField(t, "sandbox sale", st, b, 422, "payment.provider")
	if msg, _ := errorOf(b)["message"].(string); !strings.Contains(msg, "not available here") {
		t.Fatalf("message %q", msg)
	}
	var orders int
	if err := p.DB.Get(&orders, `SELECT count(*) FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if orders != 0 {
		t.Fatalf("%d orders after a refused sandbox sale", orders)
	}
	// A validly signed notification (with the secret tests use elsewhere) is not even read.
	now := time.Now()
	note := payment.NotificationBody("evt_off_1", payment.PaymentSucceeded, "00000000-0000-0000-0000-000000000000", mustAmount("38.00"), "txn-off", now)
	for _, c := range []struct {
		method, path, body string
		headers            []string
	}{
		{"GET", "/pay/abcdefghijklmnopqrstuv", "", nil},
		{"POST", "/pay/abcdefghijklmnopqrstuv", "", nil},
		{"POST", "/api/v1/webhooks/sandbox", string(note), []string{payment.SignatureHeader, payment.Sign([]byte("test-sandbox-secret"), now, note)}},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if st, b := p.raw(c.method, c.path, "", body, c.headers...); st != 404 {
			t.Fatalf("%s %s with the sandbox off: %d %s", c.method, c.path, st, b)
		}
	}
	// Cash still sells.
	vol := p.Tokens[identity.Volunteer]
	if st, sh := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "0"}); st != 201 {
		t.Fatalf("shift %d %v", st, sh)
	}
	if st, s := p.sale("cash-off", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "cash"}}); st != 201 || s["status"] != "paid" {
		t.Fatalf("cash sale %d %v", st, s)
	}
	// The tablet is told, and hides its sandbox QR button.
	if _, page := p.raw("GET", "/pos", "", nil); !strings.Contains(string(page), `data-sandbox="off"`) {
		t.Fatal("the tablet page should say the sandbox is off")
	}
}

// SHELIN_SANDBOX=on (dev, make run, tests): a sandbox sale's QR opens a
// wallet page labelled as a simulation in both languages, and the webhook
// exists (a bad signature is a 400, not a 404).
func TestSandboxOnServesALabelledSimulation(t *testing.T) {
	p := newPOSEnv(t, 10)
	st, sale := sandboxSale(p, "sb-on")
	if st != 201 {
		t.Fatalf("sandbox sale %d %v", st, sale)
	}
	payload := sale["payment"].(map[string]any)["qr_payload"].(string)
	path := strings.TrimPrefix(payload, p.URL)
	if !strings.HasPrefix(path, "/pay/") {
		t.Fatalf("qr payload %q", payload)
	}
	st, zh := p.raw("GET", path, "", nil)
	if st != 200 || !strings.Contains(string(zh), `id="sim-banner"`) || !strings.Contains(string(zh), "模拟支付") {
		t.Fatalf("wallet page (zh) %d: not labelled as a simulation", st)
	}
	st, en := p.raw("GET", path, "", nil, "Cookie", "lang=en")
	if st != 200 || !strings.Contains(string(en), "SIMULATION") {
		t.Fatalf("wallet page (en) %d: not labelled as a simulation", st)
	}
	body := `{"id":"evt_on_1"}`
	if st, b := p.raw("POST", "/api/v1/webhooks/sandbox", "", body, payment.SignatureHeader, "t=1,v1=00"); st != 400 {
		t.Fatalf("webhook with a bad signature: %d %s", st, b)
	}
	if _, page := p.raw("GET", "/pos", "", nil); !strings.Contains(string(page), `data-sandbox="on"`) {
		t.Fatal("the tablet page should say the sandbox is on")
	}
}
