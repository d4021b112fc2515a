package inventory_test

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

func TestReserveCommitRelease(t *testing.T) {
	f := newFixture(t)
	pastry := f.product(inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥（6枚装）", GroupName: "洛阳牡丹酥", Perishable: true})
	tea := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	f.receive(f.stall.ID,
		inventory.ReceiptLine{ProductID: pastry.ID, Qty: 3, LotCode: "B2", BestBefore: date(10)},
		inventory.ReceiptLine{ProductID: pastry.ID, Qty: 2, LotCode: "B1", BestBefore: date(3)},
		inventory.ReceiptLine{ProductID: tea.ID, Qty: 4})
	f.checkLevel(pastry.ID, f.stall.ID, 5, 0)

	r, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: pastry.ID, Qty: 3}, inventory.Line{ProductID: tea.ID, Qty: 1})
	f.must(err)
	f.checkLevel(pastry.ID, f.stall.ID, 5, 3)
	f.checkLevel(tea.ID, f.stall.ID, 4, 1)

	// Only 2 pastry boxes are left to reserve.
	_, err = f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: pastry.ID, Qty: 3})
	wantCode(t, err, apperr.InsufficientStock, "lines[0].qty")
	if se, ok := err.(*inventory.ShortError); !ok || se.Available != 2 || se.ProductName != pastry.Name {
		t.Fatalf("short error = %#v; want 2 left of %s", err, pastry.Name)
	}

	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "sale:1") }))
	// Committing again with the same ref changes nothing.
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "sale:1") }))
	f.checkLevel(pastry.ID, f.stall.ID, 2, 0)
	f.checkLevel(tea.ID, f.stall.ID, 3, 0)

	// FEFO: the lot B1 (best before in 3 days) went first, then 1 of B2.
	lots, err := f.inv.Lots(f.ctx, f.db, f.cid, f.stall.ID)
	f.must(err)
	got := map[string]int{}
	for _, l := range lots {
		if l.ProductID == pastry.ID {
			got[l.Code] = l.OnHand
		}
	}
	if got["B1"] != 0 || got["B2"] != 2 {
		t.Fatalf("lots after sale = %v; want B1 empty and 2 of B2", got)
	}

	r2, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: tea.ID, Qty: 3})
	f.must(err)
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Release(f.ctx, tx, f.cid, r2.ID) }))
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Release(f.ctx, tx, f.cid, r2.ID) }))
	f.checkLevel(tea.ID, f.stall.ID, 3, 0)
	err = f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r2.ID, "sale:2") })
	wantCode(t, err, apperr.Conflict, "")

	f.must(f.tx(func(tx *sqlx.Tx) error {
		return f.inv.Restock(f.ctx, tx, f.cid, f.stall.ID, []inventory.Line{{ProductID: pastry.ID, Qty: 1}}, "refund:1")
	}))
	f.checkLevel(pastry.ID, f.stall.ID, 3, 0)
	f.verify()
}
