package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"shelin/identity"
)

// approverPIN is distinctive so that finding it anywhere is no accident.
const approverPIN = "731902"

// addApprover adds a volunteer with approverPIN who approves for others.
func (p *posEnv) addApprover() string {
	p.t.Helper()
	st, u := p.call("POST", p.c()+"/users", p.Tokens[identity.Admin], map[string]any{"login": "approver-" + randomSlug(),
		"password": testPassword, "role": "volunteer", "display_name": "李叔", "pin": approverPIN})
	if st != 201 {
		p.t.Fatalf("approver: %d %v", st, u)
	}
	return u["id"].(string)
}

// approve exchanges a second person's PIN for an approval token, asked by
// the signed-in holder of token.
func (p *posEnv) approve(token, action, userID, pin string) (int, map[string]any) {
	p.t.Helper()
	return p.call("POST", p.c()+"/approvals", token, map[string]any{"action": action, "user_id": userID, "pin": pin})
}

func (p *posEnv) mustApprove(token, action, userID, pin string) string {
	p.t.Helper()
	st, a := p.approve(token, action, userID, pin)
	if st != 201 {
		p.t.Fatalf("approval %s: %d %v", action, st, a)
	}
	return a["approval_token"].(string)
}

// rawSale posts exact bytes, as a tablet replaying its queue does.
func (p *posEnv) rawSale(key, body string) (int, string) {
	p.t.Helper()
	st, b := p.raw("POST", p.c()+"/sales", p.Tokens[identity.Volunteer], body, "Idempotency-Key", key)
	return st, string(b)
}

func wantField(t *testing.T, what string, st int, body map[string]any, status int, field string) {
	t.Helper()
	if e := errorOf(body); st != status || e == nil || e["field"] != field {
		t.Fatalf("%s: %d %v, want %d on %s", what, st, body, status, field)
	}
}

// The approval endpoint checks the second person as Approve always did,
// and answers a token, when it expires and who approved.
func TestApprovalExchangesASecondPINForAToken(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol, volID, approver := p.Tokens[identity.Volunteer], p.Users[identity.Volunteer].ID, p.addApprover()
	st, b := p.approve(vol, "discount", volID, "2468")
	wantField(t, "own PIN", st, b, 422, "user_id")
	st, b = p.approve(vol, "discount", approver, "000000")
	wantField(t, "wrong PIN", st, b, 403, "pin")
	st, b = p.approve(vol, "discount", approver, "")
	wantField(t, "no PIN", st, b, 422, "pin")
	st, b = p.approve(vol, "void", approver, approverPIN)
	wantField(t, "unknown action", st, b, 422, "action")
	st, b = p.call("POST", p.c()+"/approvals", p.Tokens[identity.Leader], map[string]any{"action": "refund", "user_id": approver, "pin": approverPIN})
	if st != 403 {
		t.Fatalf("a leader asks for an approval: %d %v", st, b)
	}
	st, a := p.approve(vol, "discount", approver, approverPIN)
	if st != 201 {
		t.Fatalf("approval: %d %v", st, a)
	}
	tok, _ := a["approval_token"].(string)
	who, _ := a["approver"].(map[string]any)
	if !strings.HasPrefix(tok, "apv_") || a["expires_at"] == nil || who["id"] != approver || who["display_name"] != "李叔" {
		t.Fatalf("approval %v", a)
	}
	// Neither the PIN nor the token is kept: not in the token table, not in the audit log.
	for _, q := range []string{`SELECT coalesce(string_agg(row_to_json(t)::text, ''), '') FROM pos_approval_tokens t WHERE community_id=$1`,
		`SELECT coalesce(string_agg(row_to_json(t)::text, ''), '') FROM audit_log t WHERE community_id=$1`} {
		var all string
		if err := p.DB.Get(&all, q, p.Com.ID); err != nil {
			t.Fatal(err)
		}
		if all == "" || strings.Contains(all, approverPIN) || strings.Contains(all, tok[4:]) {
			t.Fatalf("%s holds the PIN or the token (or nothing): %s", q, all)
		}
	}
}

// A discounted cash sale whose answer was lost is replayed after a reload
// with the same key and body: its approval token is used by then, and the
// replay still answers the first sale.
func TestDiscountedSaleReplaysAfterItsApprovalWasUsed(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol, approver := p.Tokens[identity.Volunteer], p.addApprover()
	p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "0"})
	tok := p.mustApprove(vol, "discount", approver, approverPIN)
	body := `{"location_id":"` + p.stall + `","lines":[{"product_id":"` + p.pastry + `","qty":1}],"payment":{"method":"cash","tendered":"50"},"discount":"3.00","approval_token":"` + tok + `"}`
	st, first := p.rawSale("disc-1", body)
	if st != 201 || !strings.Contains(first, `"total":"35.00"`) || !strings.Contains(first, `"discount":"3.00"`) {
		t.Fatalf("discounted sale %d %s", st, first)
	}
	st, again := p.rawSale("disc-1", body)
	if st != 201 || again != first {
		t.Fatalf("replay %d %s, want the first answer %s", st, again, first)
	}
	// The same token under a new key is a second use: refused, no sale.
	st, other := p.rawSale("disc-2", body)
	var e map[string]any
	if err := json.Unmarshal([]byte(other), &e); err != nil {
		t.Fatal(err)
	}
	wantField(t, "reused token", st, e, 422, "approval_token")
	var orders, approvals int
	if err := p.DB.Get(&orders, `SELECT count(*) FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.DB.Get(&approvals, `SELECT count(*) FROM pos_approvals WHERE community_id=$1 AND action='discount' AND approved_by=$2`, p.Com.ID, approver); err != nil {
		t.Fatal(err)
	}
	if orders != 1 || approvals != 1 {
		t.Fatalf("%d orders, %d approvals recorded; want 1 and 1", orders, approvals)
	}
	// The stored answer and request hash hold no PIN and no token.
	var stored string
	if err := p.DB.Get(&stored, `SELECT string_agg(key || encode(request_hash, 'hex') || convert_from(body, 'UTF8'), '') FROM idempotency_keys WHERE scope=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, approverPIN) || strings.Contains(stored, tok) || strings.Contains(stored, "approval_token") {
		t.Fatalf("idempotency record holds the PIN or token: %s", stored)
	}
}

// Expired, reused, other-action, other-person and missing tokens are refused
// with the field named; the old inline PIN is refused before anything is
// hashed or stored; a refused write leaves its token usable.
func TestSaleAndRefundRefuseBadApprovals(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol, admin, approver := p.Tokens[identity.Volunteer], p.Tokens[identity.Admin], p.addApprover()
	p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "100"})
	sale := func(key, token string) (int, map[string]any) {
		body := map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
			"payment": map[string]any{"method": "cash"}, "discount": "3.00"}
		if token != "" {
			body["approval_token"] = token
		}
		return p.sale(key, body)
	}
	st, b := sale("no-token", "")
	wantField(t, "discount without approval", st, b, 422, "approval_token")
	st, b = p.sale("inline-pin", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "cash"}, "discount": "3.00", "approver": map[string]any{"user_id": approver, "pin": approverPIN}})
	wantField(t, "inline PIN", st, b, 422, "approver")
	if msg, _ := errorOf(b)["message"].(string); !strings.Contains(msg, "/approvals") {
		t.Fatalf("the refusal should say where the PIN goes: %q", msg)
	}
	refundTok := p.mustApprove(vol, "refund", approver, approverPIN)
	st, b = sale("other-action", refundTok)
	wantField(t, "refund token on a discount", st, b, 422, "approval_token")
	// Issued to the admin, used by the volunteer.
	adminTok := p.mustApprove(admin, "discount", approver, approverPIN)
	st, b = sale("other-person", adminTok)
	wantField(t, "someone else's token", st, b, 422, "approval_token")
	expired := p.mustApprove(vol, "discount", approver, approverPIN)
	if _, err := p.DB.Exec(`UPDATE pos_approval_tokens SET expires_at = created_at + interval '1 microsecond' WHERE community_id=$1 AND used_at IS NULL AND action='discount' AND requested_by=$2`,
		p.Com.ID, p.Users[identity.Volunteer].ID); err != nil {
		t.Fatal(err)
	}
	st, b = sale("expired", expired)
	wantField(t, "expired token", st, b, 422, "approval_token")
	st, b = sale("garbage", "apv_not-a-token")
	wantField(t, "unknown token", st, b, 422, "approval_token")
	// A sale refused for another reason (no stock) leaves its token unused.
	good := p.mustApprove(vol, "discount", approver, approverPIN)
	st, b = p.sale("too-many", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 99}},
		"payment": map[string]any{"method": "cash"}, "discount": "3.00", "approval_token": good})
	if st != 409 {
		t.Fatalf("a sale beyond stock: %d %v", st, b)
	}
	st, s := sale("good", good)
	if st != 201 || s["total"] != "35.00" {
		t.Fatalf("the token after a refused sale: %d %v", st, s)
	}

	// Refunds: a volunteer needs a refund token; the admin refunds on their own authority.
	refund := func(key, token string, by string, extra map[string]any) (int, map[string]any) {
		body := map[string]any{"lines": []map[string]any{{"product_id": p.pastry, "qty": 1}}, "reason": "盒子压坏", "restock": false}
		if token != "" {
			body["approval_token"] = token
		}
		for k, v := range extra {
			body[k] = v
		}
		return p.call("POST", p.c()+"/sales/"+s["id"].(string)+"/refunds", by, body, "Idempotency-Key", key)
	}
	st, b = refund("r-none", "", vol, nil)
	wantField(t, "refund without approval", st, b, 422, "approval_token")
	st, b = refund("r-inline", "", vol, map[string]any{"approver": map[string]any{"user_id": approver, "pin": approverPIN}})
	wantField(t, "refund with the inline PIN", st, b, 422, "approver")
	st, b = refund("r-discount-token", p.mustApprove(vol, "discount", approver, approverPIN), vol, nil)
	wantField(t, "discount token on a refund", st, b, 422, "approval_token")
	rt := p.mustApprove(vol, "refund", approver, approverPIN)
	st, r := refund("r-1", rt, vol, nil)
	if st != 201 || r["amount"] != "35.00" {
		t.Fatalf("refund %d %v", st, r)
	}
	st, again := refund("r-1", rt, vol, nil)
	if st != 201 || again["id"] != r["id"] {
		t.Fatalf("replayed refund %d %v", st, again)
	}
	var approvals int
	if err := p.DB.Get(&approvals, `SELECT count(*) FROM pos_approvals WHERE entity_id=$1 AND approved_by=$2 AND action='refund'`, r["id"], approver); err != nil {
		t.Fatal(err)
	}
	if approvals != 1 {
		t.Fatalf("refund approvals recorded: %d", approvals)
	}
	var n int
	if err := p.DB.Get(&n, `SELECT count(*) FROM idempotency_keys WHERE scope=$1 AND key IN ('no-token','inline-pin','r-inline','other-action','expired')`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d refused writes were stored", n)
	}
}
