package web_test

import (
	"strings"
	"testing"
)

// API.md's flow from an empty community: a location created with kind
// "stall" takes a shift and sells at once; its numbers use the default
// prefix until an admin chooses one.
func TestANewStallLocationSellsAtOnce(t *testing.T) {
	e := newEnv(t)
	adm, vol := e.Tokens["admin"], e.Tokens["volunteer"]
	st, p := e.call("POST", e.c()+"/products", adm, map[string]any{"sku": "BM-1", "name": "文创书签", "price": "12.00", "unit_cost": "4.00"})
	if st != 201 {
		t.Fatalf("product: %d %v", st, p)
	}
	_, store := e.call("POST", e.c()+"/locations", adm, map[string]string{"name": "邻里中心", "kind": "store"})
	st, stall := e.call("POST", e.c()+"/locations", adm, map[string]string{"name": "牡丹公园摊位", "kind": "stall"})
	if st != 201 {
		t.Fatalf("stall: %d %v", st, stall)
	}
	line := []map[string]any{{"product_id": p["id"], "qty": 5}}
	if st, b := e.call("POST", e.c()+"/stock/receipts", adm, map[string]any{"location_id": store["id"], "lines": line}, "Idempotency-Key", "rc-1"); st != 201 {
		t.Fatalf("receipt: %d %v", st, b)
	}
	if st, b := e.call("POST", e.c()+"/stock/transfers", adm, map[string]any{"from_location_id": store["id"], "to_location_id": stall["id"], "lines": line}, "Idempotency-Key", "tr-1"); st != 201 {
		t.Fatalf("transfer: %d %v", st, b)
	}
	if st, b := e.call("POST", e.c()+"/shifts", vol, map[string]any{"location_id": stall["id"], "opening_float": "50.00"}); st != 201 {
		t.Fatalf("shift at a new stall: %d %v", st, b)
	}
	st, sale := e.call("POST", e.c()+"/sales", vol, map[string]any{"location_id": stall["id"],
		"lines": []map[string]any{{"product_id": p["id"], "qty": 1}}, "payment": map[string]any{"method": "cash", "tendered": "20"}}, "Idempotency-Key", "sale-1")
	if st != 201 || sale["status"] != "paid" || sale["change"] != "8.00" || !strings.HasPrefix(sale["number"].(string), "ST-") {
		t.Fatalf("sale at a new stall: %d %v", st, sale)
	}
	// A store is not a stall: no sales there.
	st, b := e.call("POST", e.c()+"/sales", vol, map[string]any{"location_id": store["id"],
		"lines": []map[string]any{{"product_id": p["id"], "qty": 1}}, "payment": map[string]any{"method": "cash", "tendered": "20"}}, "Idempotency-Key", "sale-2")
	if st != 422 || errorOf(b)["field"] != "location_id" {
		t.Fatalf("sale at the store: %d %v", st, b)
	}
}
