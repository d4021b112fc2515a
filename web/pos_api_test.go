package web_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shelin/identity"
	"shelin/orders/payment"
)

func TestSaleReplayedWithTheSameKeyIsTheSameSale(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol := p.Tokens[identity.Volunteer]
	if st, b := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "100.00"}); st != 201 {
		t.Fatalf("open shift %d %v", st, b)
	}
	body := map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "cash", "tendered": "50"}}
	st1, first := p.sale("key-1", body)
	if st1 != 201 || first["status"] != "paid" || first["change"] != "12.00" || first["fund_amount"] != "18.00" {
		t.Fatalf("first: %d %v", st1, first)
	}
	st2, again := p.sale("key-1", body)
	if st2 != 201 || again["id"] != first["id"] || again["number"] != first["number"] {
		t.Fatalf("replay: %d %v", st2, again)
	}
	body["lines"] = []map[string]any{{"product_id": p.pastry, "qty": 2}}
	st3, other := p.sale("key-1", body)
	if st3 != 409 || errorOf(other)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other body: %d %v", st3, other)
	}
	// Only one box left the stall.
	var onHand int
	p.DB.Get(&onHand, `SELECT on_hand FROM stock_levels WHERE product_id=$1 AND location_id=$2`, p.pastry, p.stall)
	if onHand != 9 {
		t.Fatalf("on hand %d, want 9", onHand)
	}
	if st, _ := p.sale("", body); st != 422 {
		t.Fatalf("a sale without Idempotency-Key: %d", st)
	}
	// Money as a JSON number is refused with the field named.
	st4, bad := p.sale("key-2", `{"location_id":"`+p.stall+`","lines":[{"product_id":"`+p.pastry+`","qty":1}],"payment":{"method":"cash","tendered":50}}`)
	if st4 != 422 || !strings.Contains(errorOf(bad)["field"].(string), "payment") {
		t.Fatalf("float tendered: %d %v", st4, bad)
	}
}

func TestSandboxWebhookOverHTTP(t *testing.T) {
	p := newPOSEnv(t, 10)
	st, sale := p.sale("qr-1", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "sandbox"}})
	if st != 201 || sale["status"] != "awaiting_payment" {
		t.Fatalf("qr sale %d %v", st, sale)
	}
	pay := sale["payment"].(map[string]any)
	payload := pay["qr_payload"].(string)
	if !strings.HasPrefix(payload, p.URL+"/pay/") || pay["merchant_ref"] == "" || pay["expires_at"] == nil {
		t.Fatalf("payment %v", pay)
	}
	// The QR image decodes to exactly the payload.
	_, png := p.raw("GET", p.c()+"/sales/"+sale["id"].(string)+"/qr.png", p.Tokens[identity.Volunteer], nil)
	f := filepath.Join(t.TempDir(), "qr.png")
	os.WriteFile(f, png, 0o644)
	out, err := exec.Command("zbarimg", "-q", "--raw", f).Output()
	if err != nil || strings.TrimSpace(string(out)) != payload {
		t.Fatalf("zbarimg: %q %v, want %q", out, err, payload)
	}

	secret := []byte("test-sandbox-secret")
	now := time.Now()
	note := payment.NotificationBody("evt_http_1", payment.PaymentSucceeded, pay["id"].(string), mustAmount("38.00"), "txn-1", now)
	wrong := payment.NotificationBody("evt_http_2", payment.PaymentSucceeded, pay["id"].(string), mustAmount("3.80"), "txn-1", now)
	hook := func(body []byte, sig string) int {
		st, _ := p.raw("POST", "/api/v1/webhooks/sandbox", "", string(body), payment.SignatureHeader, sig)
		return st
	}
	status := func() string {
		_, s := p.call("GET", p.c()+"/sales/"+sale["id"].(string), p.Tokens[identity.Volunteer], nil)
		return s["status"].(string)
	}
	cases := []struct {
		name string
		body []byte
		sig  string
		want int
		paid string
	}{
		{"bad signature", note, payment.Sign([]byte("nope"), now, note), 400, "awaiting_payment"},
		{"stale timestamp", note, payment.Sign(secret, now.Add(-10*time.Minute), note), 400, "awaiting_payment"},
		{"different amount", wrong, payment.Sign(secret, now, wrong), 422, "awaiting_payment"},
		{"valid", note, payment.Sign(secret, now, note), 200, "paid"},
		{"repeated id", note, payment.Sign(secret, now, note), 200, "paid"},
	}
	for _, c := range cases {
		if got := hook(c.body, c.sig); got != c.want {
			t.Fatalf("%s: status %d, want %d", c.name, got, c.want)
		}
		if s := status(); s != c.paid {
			t.Fatalf("%s: sale %s, want %s", c.name, s, c.paid)
		}
	}
	var posted int
	p.DB.Get(&posted, `SELECT count(*) FROM fund_proceeds WHERE source_id=$1`, sale["id"])
	var flagged bool
	p.DB.Get(&flagged, `SELECT flagged FROM payments WHERE id=$1`, pay["id"])
	if posted != 1 || !flagged {
		t.Fatalf("proceeds posted %d times, flagged %v", posted, flagged)
	}

	// The receipt twin of API.md.
	token := strings.TrimPrefix(sale["receipt_url"].(string), p.URL+"/r/")
	st, rb := p.raw("GET", "/api/v1/receipts/"+token, "", nil)
	var r map[string]any
	json.Unmarshal(rb, &r)
	if st != 200 || r["number"] != sale["number"] || r["total"] != "38.00" || r["method"] != "qr" || r["fund"].(map[string]any)["amount"] != "18.00" {
		t.Fatalf("receipt %d %s", st, rb)
	}
	for _, k := range []string{"stall", "lines", "paid_at", "trace_url"} {
		if _, ok := r[k]; !ok {
			t.Fatalf("receipt lacks %s", k)
		}
	}
	st, page := p.raw("GET", "/r/"+token, "", nil)
	if st != 200 || !strings.Contains(string(page), "其中 ¥18.00 进入") {
		t.Fatalf("receipt page %d", st)
	}
	st, esc := p.raw("GET", p.c()+"/sales/"+sale["id"].(string)+"/receipt.escpos", p.Tokens[identity.Volunteer], nil)
	if st != 200 || len(esc) < 100 || esc[0] != 0x1b {
		t.Fatalf("escpos %d %d bytes", st, len(esc))
	}
}
