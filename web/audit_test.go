package web_test

import (
	"strings"
	"testing"
)

// A write of any area leaves an audit row naming who called which route and
// what it answered, even when the area records nothing itself.
func TestWritesOfEveryAreaAreAudited(t *testing.T) {
	e := newEnv(t)
	st, p := e.call("POST", e.c()+"/products", e.Tokens["admin"], map[string]any{"sku": "AUD-1", "name": "剪纸", "price": "25.00", "unit_cost": "10.00"})
	if st != 201 {
		t.Fatalf("product: %d %v", st, p)
	}
	var row struct {
		UserID string `db:"user_id"`
		Action string `db:"action"`
		Entity string `db:"entity"`
		After  string `db:"after"`
	}
	err := e.DB.Get(&row, `SELECT user_id, action, entity, after::text AS after FROM audit_log WHERE community_id=$1 AND entity_id=$2`, e.Com.ID, p["id"])
	if err != nil {
		t.Fatal(err)
	}
	if row.UserID != e.Users["admin"].ID || row.Action != "POST" || !strings.Contains(row.Entity, "/products") || !strings.Contains(row.After, "剪纸") {
		t.Fatalf("audit row %+v", row)
	}
	// A refused write leaves none.
	var before, after int
	e.DB.Get(&before, `SELECT count(*) FROM audit_log WHERE community_id=$1`, e.Com.ID)
	e.call("POST", e.c()+"/products", e.Tokens["admin"], map[string]any{"sku": "AUD-1", "name": "dup", "price": "1.00", "unit_cost": "0.50"})
	e.DB.Get(&after, `SELECT count(*) FROM audit_log WHERE community_id=$1`, e.Com.ID)
	if after != before {
		t.Fatalf("a refused write was audited: %d → %d", before, after)
	}
}
