package inventory_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// benchReserveCommit runs checkout-like transactions (reserve one unit, then
// commit it as a sale) from parallel goroutines; pick chooses the SKU.
func benchReserveCommit(b *testing.B, skus int) {
	f := newFixture(b)
	ps := make([]inventory.Product, skus)
	for i := range ps {
		ps[i] = f.product(inventory.ProductInput{SKU: fmt.Sprintf("B%03d", i), Name: fmt.Sprintf("商品%d", i)})
		f.receive(f.stall.ID, inventory.ReceiptLine{ProductID: ps[i].ID, Qty: 1_000_000})
	}
	var next atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS tablets
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := ps[int(next.Add(1))%len(ps)]
		for pb.Next() {
			err := f.tx(func(tx *sqlx.Tx) error {
				r, err := f.inv.Reserve(f.ctx, tx, f.cid, f.stall.ID, []inventory.Line{{ProductID: mine.ID, Qty: 1}}, "bench", time.Now().Add(time.Minute))
				if err != nil {
					return err
				}
				return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "sale:"+r.ID)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	f.verify()
}

// All tablets sell the same SKU: every transaction queues on one row lock.
func BenchmarkReserveCommitHot(b *testing.B) { benchReserveCommit(b, 1) }

// Each goroutine sells its own SKU: no shared row locks.
func BenchmarkReserveCommitSpread(b *testing.B) { benchReserveCommit(b, 64) }
