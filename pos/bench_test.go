package pos_test

import (
	"testing"
	"time"

	"shelin/pos"
)

// BenchmarkCheckoutCash is one cash sale end to end: order, reservation,
// payment, stock committed and proceeds posted, in one transaction.
func BenchmarkCheckoutCash(b *testing.B) {
	f := setup(b, 1_000_000, 0)
	f.openShift("0")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.mustSell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	}
}

// BenchmarkQRSaleAndNotification is a sandbox QR sale, the wallet paying and
// the signed notification confirming it.
func BenchmarkQRSaleAndNotification(b *testing.B) {
	f := setup(b, 1_000_000, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
		if st, err := f.deliver(f.payInWallet(s), time.Now(), secret); st != 200 {
			b.Fatal(st, err)
		}
	}
}
