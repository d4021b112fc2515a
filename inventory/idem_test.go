package inventory_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/idem"
	"shelin/inventory"
)

// A receipt or transfer replayed with the same Idempotency-Key (a tablet on
// flaky park Wi-Fi retrying, even concurrently) changes stock once.
func TestReplayedReceiptAndTransferChangeStockOnce(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	receipt := inventory.ReceiptInput{LocationID: f.store.ID, Lines: []inventory.ReceiptLine{{ProductID: p.ID, Qty: 10}}}
	transfer := inventory.TransferInput{FromLocationID: f.store.ID, ToLocationID: f.stall.ID, Lines: []inventory.Line{{ProductID: p.ID, Qty: 4}}}
	do := func(key string, body any, step func(tx *sqlx.Tx) (inventory.Operation, error)) (idem.Response, error) {
		b, _ := json.Marshal(body)
		return idem.Do(f.ctx, f.db, f.cid, key, idem.Hash([]byte("POST"), b), func(tx *sqlx.Tx) (int, []byte, error) {
			op, err := step(tx)
			if err != nil {
				return 0, nil, err
			}
			out, _ := json.Marshal(op)
			return 201, out, nil
		})
	}
	recv := func(tx *sqlx.Tx) (inventory.Operation, error) { return f.inv.Receive(f.ctx, tx, f.cid, receipt) }
	move := func(tx *sqlx.Tx) (inventory.Operation, error) { return f.inv.Transfer(f.ctx, tx, f.cid, transfer) }

	var wg sync.WaitGroup
	bodies := make([]string, 5)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := do("receipt-1", receipt, recv)
			if err != nil {
				t.Error(err)
			}
			bodies[i] = string(res.Body)
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		if b != bodies[0] {
			t.Fatalf("replays answered differently: %s vs %s", b, bodies[0])
		}
	}
	for i := 0; i < 3; i++ {
		res, err := do("transfer-1", transfer, move)
		f.must(err)
		if res.Replay != (i > 0) {
			t.Fatalf("attempt %d: replay = %v", i, res.Replay)
		}
	}
	f.checkLevel(p.ID, f.store.ID, 6, 0)
	f.checkLevel(p.ID, f.stall.ID, 4, 0)
	// The same key with another body is a conflict and changes nothing.
	other := transfer
	other.Lines = []inventory.Line{{ProductID: p.ID, Qty: 1}}
	_, err := do("transfer-1", other, func(tx *sqlx.Tx) (inventory.Operation, error) { return f.inv.Transfer(f.ctx, tx, f.cid, other) })
	wantCode(t, err, apperr.IdempotencyConflict, "")
	f.checkLevel(p.ID, f.stall.ID, 4, 0)
	f.verify()
}
