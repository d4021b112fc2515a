package inventory_test

import (
	"sync"
	"testing"
	"time"

	"shelin/internal/apperr"
	"shelin/inventory"
)

// No one may sell what is not there: 200 tablets reserving one box each
// against 50 on hand get exactly 50 reservations and 150 insufficient_stock.
func TestConcurrentReservationsNeverOversell(t *testing.T) {
	f := newFixture(t)
	for _, perishable := range []bool{false, true} {
		name := map[bool]string{false: "tea", true: "pastry"}[perishable]
		t.Run(name, func(t *testing.T) {
			p := f.product(inventory.ProductInput{SKU: "HOT-" + name, Name: "牡丹酥-" + name, Perishable: perishable})
			f.receive(f.stall.ID, inventory.ReceiptLine{ProductID: p.ID, Qty: 50, BestBefore: date(5)})

			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, short := 0, 0
			var other []error
			start := make(chan struct{})
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: p.ID, Qty: 1})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case apperr.Is(err, apperr.InsufficientStock):
						short++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("unexpected errors: %v", other[0])
			}
			if ok != 50 || short != 150 {
				t.Fatalf("reservations: %d ok, %d insufficient_stock; want 50 and 150", ok, short)
			}
			f.checkLevel(p.ID, f.stall.ID, 50, 50)
			f.verify()
		})
	}
}
