package pos_test

import (
	"sync"
	"testing"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/pos"
)

// 50 tablets (or taps) sell the last 20 boxes at the same moment: exactly 20
// sales are paid, the other 30 answer insufficient_stock, and stock, ledger
// and receipts agree.
func TestFiftyConcurrentSalesOfTheLastTwentyUnits(t *testing.T) {
	f := setup(t, 20, 0)
	f.openShift("0")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var paid []*pos.Sale
	short, other := 0, []error{}
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			method, provider := "cash", ""
			if i%2 == 1 {
				method, provider = "qr", "sandbox"
			}
			s, err := f.sell(method, provider, nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				paid = append(paid, s)
			case apperr.Is(err, apperr.InsufficientStock):
				short++
			default:
				other = append(other, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	if len(paid) != 20 || short != 30 {
		t.Fatalf("%d sales went through and %d were short; want 20 and 30", len(paid), short)
	}
	// The QR ones are paid by their wallets.
	for _, s := range paid {
		if s.Order.Status == orders.AwaitingPayment {
			if st, err := f.deliver(f.payInWallet(s), timeNow(), secret); st != 200 {
				t.Fatalf("deliver: %d %v", st, err)
			}
		}
	}
	if l := f.level(f.pastry); l.OnHand != 0 || l.Reserved != 0 || l.Available != 0 {
		t.Fatalf("stock after the rush: %+v", l)
	}
	// Receipts: 20 paid sales, numbered uniquely, each ¥38.00.
	numbers := map[string]bool{}
	gross := money.Zero
	for _, s := range paid {
		got := f.sale(s.Order.ID)
		if got.Order.Status != orders.Paid {
			t.Fatalf("%s is %s", got.Order.Number, got.Order.Status)
		}
		numbers[got.Order.Number] = true
		gross = gross.Add(got.Order.Total)
	}
	if len(numbers) != 20 || gross.String() != "760.00" {
		t.Fatalf("%d numbers, gross %s", len(numbers), gross)
	}
	// The stock log has exactly 20 sale movements of one box.
	moves, _, err := f.s.Inventory.Movements(f.ctx, f.d, f.cid, inventory.MovementFilter{ProductID: f.pastry, LocationID: f.stall, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	sold := 0
	for _, m := range moves {
		if m.Kind == inventory.MoveSale {
			sold -= m.Qty
			if !numbers[m.Ref] {
				t.Fatalf("a sale movement %q matches no receipt", m.Ref)
			}
		}
	}
	if sold != 20 {
		t.Fatalf("the stock log sold %d", sold)
	}
	// The fund got 20 × (38 − 20).
	if f.fundBalance().String() != "360.00" {
		t.Fatalf("fund %s", f.fundBalance())
	}
	f.verifyLedger()
}
