package web_test

import (
	"strings"
	"testing"
	"time"

	"shelin/identity"
)

// An unpaid QR sale expires by its durable job and its stock comes back.
func TestUnpaidQRSaleExpiresByTheQueue(t *testing.T) {
	p := newPOSEnv(t, 3)
	p.Srv.POS().QRExpiry = time.Second
	st, sale := p.sale("exp-1", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 2}},
		"payment": map[string]any{"method": "qr", "provider": "sandbox"}})
	if st != 201 {
		t.Fatalf("sale %d %v", st, sale)
	}
	available := func() (n int) {
		p.DB.Get(&n, `SELECT on_hand - reserved FROM stock_levels WHERE product_id=$1 AND location_id=$2`, p.pastry, p.stall)
		return
	}
	if available() != 1 {
		t.Fatalf("reserved while awaiting: available %d", available())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, s := p.call("GET", p.c()+"/sales/"+sale["id"].(string), p.Tokens[identity.Volunteer], nil)
		if s["status"] == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v after 20 s", s["status"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	if available() != 3 {
		t.Fatalf("stock not released: available %d", available())
	}
}

// A refund needs a second person's PIN, is idempotent on its key, pays cash
// back from the drawer, and the shift closes with zero variance when counted
// right.
func TestRefundWithSecondPINAndShiftClose(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol, admin := p.Tokens[identity.Volunteer], p.Users[identity.Admin]
	_, sh := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "100"})
	_, sale := p.sale("r-sale", map[string]any{"location_id": p.stall,
		"lines":   []map[string]any{{"product_id": p.pastry, "qty": 2}, {"product_id": p.card, "qty": 2}},
		"payment": map[string]any{"method": "cash", "tendered": "100"}})
	if sale["status"] != "paid" || sale["total"] != "87.00" {
		t.Fatalf("sale %v", sale)
	}
	refund := func(key string, extra map[string]any) (int, map[string]any) {
		body := map[string]any{"lines": []map[string]any{{"product_id": p.pastry, "qty": 1}}, "reason": "盒子压坏", "restock": false}
		for k, v := range extra {
			body[k] = v
		}
		return p.call("POST", p.c()+"/sales/"+sale["id"].(string)+"/refunds", vol, body, "Idempotency-Key", key)
	}
	if st, b := p.approve(vol, "refund", p.Users[identity.Volunteer].ID, "2468"); st != 422 {
		t.Fatalf("approving one's own refund: %d %v", st, b)
	}
	if st, b := p.approve(vol, "refund", admin.ID, "0000"); st != 403 {
		t.Fatalf("a wrong second PIN: %d %v", st, b)
	}
	token := p.mustApprove(vol, "refund", admin.ID, "2468")
	cases := []struct {
		name   string
		extra  map[string]any
		status int
	}{
		{"no second person", map[string]any{}, 422},
		{"the PIN itself", map[string]any{"approver": map[string]any{"user_id": admin.ID, "pin": "2468"}}, 422},
		{"admin's approval", map[string]any{"approval_token": token}, 201},
	}
	var first map[string]any
	for _, c := range cases {
		st, b := refund("refund-1", c.extra)
		if st != c.status {
			t.Fatalf("%s: %d %v", c.name, st, b)
		}
		first = b
	}
	if first["amount"] != "38.00" || first["status"] != "succeeded" {
		t.Fatalf("refund %v", first)
	}
	st, again := refund("refund-1", map[string]any{"approval_token": token})
	if st != 201 || again["id"] != first["id"] {
		t.Fatalf("replayed refund %d %v", st, again)
	}
	// An admin signed in with a password refunds by their own authority.
	st, byAdmin := p.call("POST", p.c()+"/sales/"+sale["id"].(string)+"/refunds", p.Tokens[identity.Admin],
		map[string]any{"lines": []map[string]any{{"product_id": p.card, "qty": 1}}, "reason": "顾客不要了"}, "Idempotency-Key", "refund-admin")
	if st != 201 || byAdmin["amount"] != "5.50" {
		t.Fatalf("admin refund %d %v", st, byAdmin)
	}
	var approvals int
	p.DB.Get(&approvals, `SELECT count(*) FROM pos_approvals WHERE entity_id=$1 AND approved_by=$2`, first["id"], admin.ID)
	if approvals != 1 {
		t.Fatalf("approvals recorded: %d", approvals)
	}
	// Drawer: 100 + 87 − 38 − 5.50 = 143.50.
	st, closed := p.call("POST", p.c()+"/shifts/"+sh["id"].(string)+"/close", vol, map[string]any{"counted_cash": "143.50"})
	if st != 200 || closed["expected_cash"] != "143.50" || closed["variance"] != "0.00" {
		t.Fatalf("close %d %v", st, closed)
	}
	_, r := p.call("GET", p.c()+"/sales/"+sale["id"].(string), vol, nil)
	if r["refunded_total"] != "43.50" {
		t.Fatalf("sale after refund %v", r)
	}
}

// A discount over HTTP needs a second person's approval and shows on the receipt.
func TestDiscountNeedsASecondPIN(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol := p.Tokens[identity.Volunteer]
	p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "0"})
	body := map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "cash"}, "discount": "3.00"}
	if st, _ := p.sale("d-1", body); st != 422 {
		t.Fatalf("a discount without a second PIN: %d", st)
	}
	body["approval_token"] = p.mustApprove(vol, "discount", p.Users[identity.Admin].ID, "2468")
	st, sale := p.sale("d-2", body)
	if st != 201 || sale["total"] != "35.00" || sale["discount"] != "3.00" || sale["fund_amount"] != "15.00" {
		t.Fatalf("discounted sale %d %v", st, sale)
	}
	_, page := p.raw("GET", strings.TrimPrefix(sale["receipt_url"].(string), p.URL), "", nil)
	if !strings.Contains(string(page), "−¥3.00") {
		t.Fatal("the receipt must show the discount")
	}
}
