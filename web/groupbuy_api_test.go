package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"shelin/identity"
)

// gbCampaign opens a campaign through the API as the 邻长.
func (p *posEnv) gbCampaign(minQty, maxQty int) map[string]any {
	p.t.Helper()
	st, c := p.call("POST", p.c()+"/groupbuys", p.Tokens[identity.Leader], map[string]any{
		"title": "洛阳牡丹酥 满3盒成团", "product_id": p.pastry, "price": "38.00", "fund_per_unit": "8.00",
		"min_qty": minQty, "max_qty": maxQty, "per_person_max": 5, "deadline": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
		"pickup_point": "邻里小站（3号楼下）", "micro_grid": "第3微网格"})
	if st != http.StatusCreated {
		p.t.Fatalf("create group-buy: %d %v", st, c)
	}
	return c
}

func tokenOf(joinURL string) string {
	i := strings.Index(joinURL, "/g/")
	return joinURL[i+3:]
}

// waitJoin polls a neighbour's join until it reaches status.
func (p *posEnv) waitJoin(path, status string) map[string]any {
	p.t.Helper()
	var j map[string]any
	for range 150 {
		var st int
		st, j = p.call("GET", path, "", nil)
		if st != http.StatusOK {
			p.t.Fatalf("GET %s: %d %v", path, st, j)
		}
		if j["status"] == status {
			return j
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("join stayed %v, want %s", j["status"], status)
	return nil
}

// payWallet taps "pay" on the sandbox wallet page of a payload.
func (p *posEnv) payWallet(payload string) {
	p.t.Helper()
	u, err := url.Parse(payload)
	if err != nil {
		p.t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(p.URL+u.Path, url.Values{})
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("wallet pay: %d", res.StatusCode)
	}
}

// TestGroupBuyAPI drives API.md "Group-buys" end to end over HTTP: create,
// join with the sandbox (idempotent), pay in the wallet (the signed
// notification arrives through the webhook by the queue), settle, pickup
// once; the ledger verifies.
func TestGroupBuyAPI(t *testing.T) {
	p := newPOSEnv(t, 10)
	leader := p.Tokens[identity.Leader]
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"price": "12.505"}, "price"},
		{map[string]any{"price": 12}, "price"},
		{map[string]any{"fund_per_unit": "40.00"}, "fund_per_unit"},
		{map[string]any{"min_qty": 0}, "min_qty"},
		{map[string]any{"deadline": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "deadline"},
	} {
		body := map[string]any{"title": "t", "product_id": p.pastry, "price": "38.00", "fund_per_unit": "8.00", "min_qty": 1, "max_qty": 5,
			"deadline": time.Now().Add(time.Hour).Format(time.RFC3339), "pickup_point": "站"}
		for k, v := range tc.body {
			body[k] = v
		}
		st, out := p.call("POST", p.c()+"/groupbuys", leader, body)
		if st != http.StatusUnprocessableEntity || errorOf(out)["field"] != tc.field {
			t.Errorf("%v: %d %v", tc.body, st, out)
		}
	}
	if st, _ := p.call("POST", p.c()+"/groupbuys", p.Tokens[identity.Volunteer], map[string]any{}); st != http.StatusForbidden {
		t.Fatalf("a volunteer creates a group-buy: %d", st)
	}
	c := p.gbCampaign(3, 10)
	if c["status"] != "open" || !strings.Contains(c["join_url"].(string), "/g/") || !strings.HasSuffix(c["poster_url"].(string), "/poster") {
		t.Fatalf("created %v", c)
	}
	token := tokenOf(c["join_url"].(string))
	st, pub := p.call("GET", "/api/v1/groupbuys/"+token, "", nil)
	if st != http.StatusOK || pub["fund_per_unit"] != "8.00" || pub["price"] != "38.00" || pub["left"] != float64(10) {
		t.Fatalf("public: %d %v", st, pub)
	}
	join := map[string]any{"name": "王秀英", "phone": "13812345678", "building": "3号楼2单元", "qty": 2, "provider": "sandbox"}
	if st, out := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", join); st != http.StatusUnprocessableEntity {
		t.Fatalf("join without Idempotency-Key: %d %v", st, out)
	}
	st, j := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", join, "Idempotency-Key", "join-1")
	if st != http.StatusCreated || j["status"] != "pending" || j["phone"] != "138****5678" || j["pickup_code"] != nil {
		t.Fatalf("join: %d %v", st, j)
	}
	pay := j["payment"].(map[string]any)
	if pay["status"] != "pending" || pay["amount"] != nil && pay["amount"] != "76.00" || !strings.Contains(pay["qr_payload"].(string), "/pay/") {
		t.Fatalf("payment %v", pay)
	}
	if st, again := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", join, "Idempotency-Key", "join-1"); st != http.StatusCreated || again["id"] != j["id"] {
		t.Fatalf("replay: %d %v", st, again)
	}
	join["qty"] = 3
	if st, out := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", join, "Idempotency-Key", "join-1"); st != http.StatusConflict || errorOf(out)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other body: %d %v", st, out)
	}
	join["qty"] = 4 // 2 + 4 > 5 per person
	if st, out := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", join, "Idempotency-Key", "join-2"); st != http.StatusUnprocessableEntity || errorOf(out)["field"] != "qty" {
		t.Fatalf("per person: %d %v", st, out)
	}
	mine := "/api/v1/groupbuys/" + token + "/joins/" + tokenOf(j["url"].(string))[len(token)+3:]
	p.payWallet(pay["qr_payload"].(string))
	paid := p.waitJoin(mine, "paid")
	code, _ := paid["pickup_code"].(string)
	if len(code) != 6 {
		t.Fatalf("pickup code %v", paid)
	}
	// Another neighbour: one unit, paid.
	st, j2 := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", map[string]any{"name": "李建国", "phone": "13900001111", "qty": 1, "provider": "sandbox"},
		"Idempotency-Key", "join-3")
	if st != http.StatusCreated {
		t.Fatalf("join 2: %d %v", st, j2)
	}
	p.payWallet(j2["payment"].(map[string]any)["qr_payload"].(string))
	p.waitJoin("/api/v1/groupbuys/"+token+"/joins/"+tokenOf(j2["url"].(string))[len(token)+3:], "paid")
	id := c["id"].(string)
	st, got := p.call("GET", p.c()+"/groupbuys/"+id, leader, nil)
	if st != http.StatusOK || got["paid_qty"] != float64(3) || got["participants"] != float64(2) || got["status"] != "open" || got["fund"] != "24.00" {
		t.Fatalf("get: %d %v", st, got)
	}
	// Another community's 邻长 sees nothing.
	_, other := p.newCommunity()
	otherLeader := p.login(other[identity.Leader].Login, testPassword)
	if st, _ := p.call("GET", p.c()+"/groupbuys/"+id, otherLeader, nil); st != http.StatusNotFound {
		t.Fatalf("other community: %d", st)
	}
	if st, _ := p.call("POST", p.c()+"/groupbuys/"+id+"/pickups", leader, map[string]any{"code": code}); st != http.StatusConflict {
		t.Fatalf("pickup before success: %d", st)
	}
	// 刘奶奶 has no smartphone: the 邻长 records her cash.
	proxy := map[string]any{"name": "刘奶奶", "phone": "13700001111", "building": "2号楼", "qty": 1}
	if st, _ := p.call("POST", p.c()+"/groupbuys/"+id+"/proxy-joins", p.Tokens[identity.Volunteer], proxy, "Idempotency-Key", "px-1"); st != http.StatusForbidden {
		t.Fatalf("a volunteer records a cash join: %d", st)
	}
	st, px := p.call("POST", p.c()+"/groupbuys/"+id+"/proxy-joins", leader, proxy, "Idempotency-Key", "px-1")
	if st != http.StatusCreated || px["status"] != "paid" || len(px["pickup_code"].(string)) != 6 || px["payment"].(map[string]any)["method"] != "cash" {
		t.Fatalf("proxy join: %d %v", st, px)
	}
	st, settled := p.call("POST", p.c()+"/groupbuys/"+id+"/settle", leader, nil)
	if st != http.StatusOK || settled["status"] != "succeeded" {
		t.Fatalf("settle: %d %v", st, settled)
	}
	if st, again := p.call("POST", p.c()+"/groupbuys/"+id+"/settle", leader, nil); st != http.StatusOK || again["status"] != "succeeded" {
		t.Fatalf("settle again: %d %v", st, again)
	}
	if st, out := p.call("POST", p.c()+"/groupbuys/"+id+"/pickups", leader, map[string]any{"code": code}); st != http.StatusOK || out["qty"] != float64(2) {
		t.Fatalf("pickup: %d %v", st, out)
	}
	if st, out := p.call("POST", p.c()+"/groupbuys/"+id+"/pickups", leader, map[string]any{"code": code}); st != http.StatusConflict {
		t.Fatalf("pickup twice: %d %v", st, out)
	}
	st, csv := p.raw("GET", p.c()+"/groupbuys/"+id+"/checklist.csv", leader, nil)
	if st != http.StatusOK || !strings.Contains(string(csv), "138****5678") || strings.Contains(string(csv), "13812345678") {
		t.Fatalf("checklist: %d %s", st, csv)
	}
	st, fundNow := p.call("GET", p.c()+"/fund", p.Tokens[identity.Treasurer], nil)
	if st != http.StatusOK || fundNow["balance"] != "32.00" {
		t.Fatalf("fund: %d %v", st, fundNow)
	}
	st, v := p.call("GET", p.c()+"/ledger/verify", p.Tokens[identity.Treasurer], nil)
	if st != http.StatusOK || v["ok"] != true {
		t.Fatalf("verify: %d %v", st, v)
	}
	if st, out := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", map[string]any{"name": "晚", "phone": "13900002222", "qty": 1, "provider": "sandbox"},
		"Idempotency-Key", "join-4"); st != http.StatusConflict {
		t.Fatalf("join after settlement: %d %v", st, out)
	}
}
