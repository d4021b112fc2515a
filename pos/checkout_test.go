package pos_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"shelin/internal/apperr"
	"shelin/orders"
	"shelin/pos"
)

func TestCashSaleIsPaidAtOnceWithChange(t *testing.T) {
	f := setup(t, 10, 50)
	if _, err := f.sell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("cash without an open shift: %v", err)
	}
	f.openShift("100.00")
	s := f.mustSell("cash", "", amt("100"), pos.SaleLine{ProductID: f.pastry, Qty: 2}, pos.SaleLine{ProductID: f.card, Qty: 1})
	if s.Order.Status != orders.Paid || s.Order.Total.String() != "81.50" || s.Payment.Change.String() != "18.50" {
		t.Fatalf("sale %s total %s change %v", s.Order.Status, s.Order.Total, s.Payment.Change)
	}
	// net = 81.50 − (2×20.00 + 1.00) = 40.50 goes to the fund.
	if s.FundAmount.String() != "40.50" || f.fundBalance().String() != "40.50" {
		t.Fatalf("fund share %s, balance %s", s.FundAmount, f.fundBalance())
	}
	if l := f.level(f.pastry); l.OnHand != 8 || l.Reserved != 0 {
		t.Fatalf("pastry level %+v", l)
	}
	if _, err := f.sell("cash", "", amt("50"), pos.SaleLine{ProductID: f.pastry, Qty: 2}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("tendered below total: %v", err)
	}
	f.verifyLedger()
}

func TestQRSaleIsPaidOnceByItsNotification(t *testing.T) {
	f := setup(t, 10, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	if s.Order.Status != orders.AwaitingPayment || s.Payment.QRPayload == nil || s.Payment.ExpiresAt == nil {
		t.Fatalf("qr sale %+v %+v", s.Order, s.Payment)
	}
	if l := f.level(f.pastry); l.Reserved != 1 || l.Available != 9 {
		t.Fatalf("reserved while awaiting: %+v", l)
	}
	body := f.payInWallet(s)
	now := time.Now()

	cases := []struct {
		name     string
		body     []byte
		signedAt time.Time
		key      string
		status   int
		paid     bool
	}{
		{"bad signature", body, now, "wrong-secret", http.StatusBadRequest, false},
		{"stale timestamp", body, now.Add(-301 * time.Second), secret, http.StatusBadRequest, false},
		{"different amount", []byte(amountChanged(t, body)), now, secret, http.StatusUnprocessableEntity, false},
		{"valid", body, now, secret, http.StatusOK, true},
		{"repeated id", body, now, secret, http.StatusOK, true},
		{"repeated id re-signed later", body, now.Add(100 * time.Second), secret, http.StatusOK, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := f.deliver(c.body, c.signedAt, c.key)
			if st != c.status || (err == nil) != (st == http.StatusOK) {
				t.Fatalf("status %d (%v), want %d", st, err, c.status)
			}
			got := f.sale(s.Order.ID)
			if (got.Order.Status == orders.Paid) != c.paid {
				t.Fatalf("sale is %s", got.Order.Status)
			}
			// However often it is told, the fund gets the net once: 38 − 20.
			want := "0.00"
			if c.paid {
				want = "18.00"
			}
			if f.fundBalance().String() != want {
				t.Fatalf("fund %s, want %s", f.fundBalance(), want)
			}
		})
	}
	got := f.sale(s.Order.ID)
	if !got.Payment.Flagged {
		t.Fatal("the amount mismatch must flag the payment for the treasurer")
	}
	if l := f.level(f.pastry); l.OnHand != 9 || l.Reserved != 0 {
		t.Fatalf("stock after payment %+v", l)
	}
	f.verifyLedger()
}

// amountChanged returns body with another amount and a new notification id.
func amountChanged(t *testing.T, body []byte) string {
	s := strings.Replace(string(body), `"amount":"38.00"`, `"amount":"3.80"`, 1)
	s = strings.Replace(s, `"id":"evt_`, `"id":"evt_x`, 1)
	if s == string(body) {
		t.Fatal("could not change the amount")
	}
	return s
}

func TestUnpaidQRSaleExpiresAndReleasesStock(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 2})
	expire := func() bool {
		ok, err := f.s.ExpireSale(f.ctx, f.cid, s.Order.ID)
		if err != nil {
			t.Fatalf("expire: %v", err)
		}
		return ok
	}
	if expire() {
		t.Fatal("a sale must not expire before its time")
	}
	f.s.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	if !expire() || expire() {
		t.Fatal("the sale expires exactly once")
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Expired || got.Payment.Status != orders.Expired {
		t.Fatalf("after expiry %s/%s", got.Order.Status, got.Payment.Status)
	}
	if l := f.level(f.pastry); l.Available != 5 || l.Reserved != 0 {
		t.Fatalf("stock not released: %+v", l)
	}
	// The wallet page is closed too.
	token := (*s.Payment.QRPayload)[len("http://shelin.test/pay/"):]
	if _, err := f.sandbox.Pay(f.ctx, f.d, token); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("paying an expired sale in the wallet: %v", err)
	}
}

func TestSweepConfirmsAPaymentThatBeatTheExpiry(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	f.payInWallet(s) // paid, but the notification is still in the queue
	f.s.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	if n, err := f.s.SweepExpired(f.ctx, 10); err != nil || n != 0 {
		t.Fatalf("sweep expired %d (%v); a paid sale must not expire", n, err)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Paid {
		t.Fatalf("sale is %s; the sweep should have found the payment", got.Order.Status)
	}
	if f.fundBalance().String() != "18.00" {
		t.Fatalf("fund %s", f.fundBalance())
	}
}

func TestCancelAndStaticConfirm(t *testing.T) {
	f := setup(t, 5, 0)
	if _, err := f.sell("qr", "static", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("static QR without an uploaded 收款码 must be a clear conflict: %v", err)
	}
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	if _, err := f.s.Cancel(f.ctx, f.cid, s.Order.ID, f.vol1); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Cancelled {
		t.Fatalf("cancel: %s", got.Order.Status)
	}
	if l := f.level(f.pastry); l.Available != 5 {
		t.Fatalf("cancel must release: %+v", l)
	}
}

// Two replicas, provider retries and a poll all confirm the same payment at
// once: one sale paid, one stock movement, one fund posting.
func TestConcurrentConfirmationsHaveOneEffect(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	body := f.payInWallet(s)
	other := []byte(strings.Replace(string(body), `"id":"evt_`, `"id":"evt_retry_`, 1))
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch i % 3 {
			case 0:
				st, err := f.deliver(body, time.Now(), secret)
				if err != nil {
					t.Error(err)
				}
				codes <- st
			case 1:
				st, err := f.deliver(other, time.Now(), secret)
				if err != nil {
					t.Error(err)
				}
				codes <- st
			default:
				if _, err := f.s.PollPayment(f.ctx, f.cid, s.Order.ID); err != nil {
					t.Error(err)
				}
				codes <- 200
			}
		}(i)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("a confirmation answered %d", c)
		}
	}
	if f.fundBalance().String() != "18.00" {
		t.Fatalf("fund %s after 20 confirmations", f.fundBalance())
	}
	if l := f.level(f.pastry); l.OnHand != 4 || l.Reserved != 0 {
		t.Fatalf("stock %+v", l)
	}
	var applied int
	if err := f.d.Get(&applied, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1 AND outcome='applied'`, s.Payment.ID); err != nil {
		t.Fatal(err)
	}
	if applied > 1 {
		t.Fatalf("%d notifications applied", applied)
	}
	f.verifyLedger()
}

// A lost callback is caught by polling the provider.
func TestPollingConfirmsAPaymentWhoseCallbackWasLost(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	f.payInWallet(s) // the notification never arrives
	if n, err := f.s.PollAwaiting(f.ctx, 0, 10); err != nil || n != 1 {
		t.Fatalf("poll confirmed %d (%v)", n, err)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Paid || f.fundBalance().String() != "18.00" {
		t.Fatalf("sale %s fund %s", got.Order.Status, f.fundBalance())
	}
	if n, err := f.s.PollAwaiting(f.ctx, 0, 10); err != nil || n != 0 {
		t.Fatalf("a second poll confirmed %d more (%v)", n, err)
	}
}
