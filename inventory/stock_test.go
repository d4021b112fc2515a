package inventory_test

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

// Perishable pastry is sold first-expired-first-out; an expired lot is never
// sold (a clear error says so) and can be written off.
func TestExpiredLotsAreNotSoldAndCanBeWrittenOff(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥（6枚装）", Perishable: true})
	f.receive(f.stall.ID,
		inventory.ReceiptLine{ProductID: p.ID, Qty: 2, LotCode: "OLD", BestBefore: date(1)},
		inventory.ReceiptLine{ProductID: p.ID, Qty: 3, LotCode: "NEW", BestBefore: date(4)})
	// Two days later the OLD lot is past its best-before.
	f.inv.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	_, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: p.ID, Qty: 4})
	wantCode(t, err, apperr.InsufficientStock, "lines[0].qty")
	se := err.(*inventory.ShortError)
	if se.Available != 3 || se.Expired != 2 {
		t.Fatalf("short error says %d available, %d expired; want 3 and 2 (%v)", se.Available, se.Expired, err)
	}
	r, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: p.ID, Qty: 3})
	f.must(err)
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "sale:1") }))
	lots, err := f.inv.Lots(f.ctx, f.db, f.cid, f.stall.ID)
	f.must(err)
	if len(lots) != 1 || lots[0].Code != "OLD" || !lots[0].Expired || lots[0].OnHand != 2 {
		t.Fatalf("lots = %+v; want only the 2 expired OLD left", lots)
	}
	var op *inventory.Operation
	f.must(f.tx(func(tx *sqlx.Tx) (err error) {
		op, err = f.inv.WriteOffExpired(f.ctx, tx, f.cid, f.stall.ID, nil)
		return err
	}))
	if op == nil {
		t.Fatal("nothing written off")
	}
	f.checkLevel(p.ID, f.stall.ID, 0, 0)
	ms, _, err := f.inv.Movements(f.ctx, f.db, f.cid, inventory.MovementFilter{Ref: op.ID})
	f.must(err)
	if len(ms) != 1 || ms[0].Kind != inventory.MoveWriteOff || ms[0].Qty != -2 || ms[0].LotCode != "OLD" {
		t.Fatalf("write-off movements = %+v", ms)
	}
	f.verify()
}

// Morning: carry stock to the park stall. Evening: count what is left at the
// stall (the difference becomes adjustments) and carry the rest back to the
// centre, in one short flow. Stock held by an unpaid sale stays.
func TestStallDayFromTransferToEveningReturn(t *testing.T) {
	f := newFixture(t)
	card := f.product(inventory.ProductInput{SKU: "CARD", Name: "文创书签"})
	cut := f.product(inventory.ProductInput{SKU: "CUT", Name: "剪纸"})
	f.receive(f.store.ID, inventory.ReceiptLine{ProductID: card.ID, Qty: 50}, inventory.ReceiptLine{ProductID: cut.ID, Qty: 10})
	f.must(f.tx(func(tx *sqlx.Tx) error {
		_, err := f.inv.Transfer(f.ctx, tx, f.cid, inventory.TransferInput{FromLocationID: f.store.ID, ToLocationID: f.stall.ID,
			Lines: []inventory.Line{{ProductID: card.ID, Qty: 20}, {ProductID: cut.ID, Qty: 6}}})
		return err
	}))
	f.checkLevel(card.ID, f.stall.ID, 20, 0)
	f.checkLevel(card.ID, f.store.ID, 30, 0)
	// During the day: 5 bookmarks sold, 1 paper-cut awaiting QR payment.
	r, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: card.ID, Qty: 5})
	f.must(err)
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "sale:1") }))
	_, err = f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: cut.ID, Qty: 1})
	f.must(err)

	// Evening: 14 bookmarks counted (one lost), 6 paper-cuts.
	var res inventory.StallCloseResult
	f.must(f.tx(func(tx *sqlx.Tx) (err error) {
		res, err = f.inv.CloseStall(f.ctx, tx, f.cid, inventory.StallCloseInput{StallID: f.stall.ID, StoreID: f.store.ID,
			Lines: []inventory.CountLine{{ProductID: card.ID, Counted: 14}, {ProductID: cut.ID, Counted: 6}}})
		return err
	}))
	adj := map[string]int{}
	for _, a := range res.Count.Adjustments {
		adj[a.ProductID] = a.Delta
	}
	if adj[card.ID] != -1 || adj[cut.ID] != 0 {
		t.Fatalf("adjustments = %+v; want -1 bookmark, 0 paper-cuts", res.Count.Adjustments)
	}
	f.checkLevel(card.ID, f.stall.ID, 0, 0)
	f.checkLevel(card.ID, f.store.ID, 44, 0)
	f.checkLevel(cut.ID, f.stall.ID, 1, 1) // held for the unpaid sale
	f.checkLevel(cut.ID, f.store.ID, 9, 0)

	// A count below what unpaid sales hold is refused.
	_, err = func() (inventory.Operation, error) {
		var op inventory.Operation
		err := f.tx(func(tx *sqlx.Tx) (err error) {
			op, err = f.inv.Count(f.ctx, tx, f.cid, inventory.CountInput{LocationID: f.stall.ID, Lines: []inventory.CountLine{{ProductID: cut.ID, Counted: 0}}})
			return err
		})
		return op, err
	}()
	wantCode(t, err, apperr.Conflict, "lines[0].counted")
	f.verify()
}

func TestLowStockList(t *testing.T) {
	f := newFixture(t)
	tea := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	card := f.product(inventory.ProductInput{SKU: "CARD", Name: "文创书签"})
	f.receive(f.stall.ID, inventory.ReceiptLine{ProductID: tea.ID, Qty: 3}, inventory.ReceiptLine{ProductID: card.ID, Qty: 30})
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.SetThreshold(f.ctx, tx, f.cid, tea.ID, f.stall.ID, 5) }))
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.SetThreshold(f.ctx, tx, f.cid, card.ID, f.stall.ID, 5) }))
	// A threshold for a place with no stock yet is low at once.
	f.must(f.tx(func(tx *sqlx.Tx) error { return f.inv.SetThreshold(f.ctx, tx, f.cid, card.ID, f.store.ID, 10) }))
	low, err := f.inv.LowStock(f.ctx, f.db, f.cid)
	f.must(err)
	got := map[string]bool{}
	for _, l := range low {
		got[l.SKU+"@"+l.LocationName] = true
	}
	if len(low) != 2 || !got["TEA@"+f.stall.Name] || !got["CARD@"+f.store.Name] {
		t.Fatalf("low stock = %+v", low)
	}
	err = f.tx(func(tx *sqlx.Tx) error { return f.inv.SetThreshold(f.ctx, tx, f.cid, card.ID, f.store.ID, -1) })
	wantCode(t, err, apperr.Invalid, "low_threshold")
}

// Movements come newest first, a page at a time.
func TestMovementsPaginate(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	for i := 0; i < 7; i++ {
		f.receive(f.store.ID, inventory.ReceiptLine{ProductID: p.ID, Qty: i + 1})
	}
	var all []inventory.Movement
	cursor := ""
	for pages := 0; ; pages++ {
		ms, next, err := f.inv.Movements(f.ctx, f.db, f.cid, inventory.MovementFilter{ProductID: p.ID, Limit: 3, Cursor: cursor})
		f.must(err)
		all = append(all, ms...)
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages; want 3", pages+1)
			}
			break
		}
		cursor = next
	}
	if len(all) != 7 || all[0].Qty != 7 || all[6].Qty != 1 {
		t.Fatalf("movements = %d, first %d, last %d", len(all), all[0].Qty, all[len(all)-1].Qty)
	}
	_, _, err := f.inv.Movements(f.ctx, f.db, f.cid, inventory.MovementFilter{Cursor: "x"})
	wantCode(t, err, apperr.Invalid, "cursor")
}
