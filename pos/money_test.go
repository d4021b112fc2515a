package pos_test

// The eleven ways money was lost, doubled or misattributed (issue 8), each
// as the rule it now obeys.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

// account returns an account's balance as the treasurer reads it: debit
// positive for money held (drawers, clearing, bank), credit positive for what
// is owed (payables, suspense, the fund).
func (f *fx) account(kind, key string) string {
	f.t.Helper()
	var b money.Amount
	err := f.d.Get(&b, `SELECT balance FROM ledger_accounts WHERE community_id=$1 AND kind=$2 AND key=$3`, f.cid, kind, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "0.00"
	}
	if err != nil {
		f.t.Fatal(err)
	}
	switch kind {
	case "supplier_payable", "maker_payable", "provider_fees", "fund_earmark", "customer_refunds_payable", "cash_float":
		b = b.Neg()
	}
	return b.String()
}

// painting adds a consigned painting (maker 王师傅, 80 %) with stock.
func (f *fx) painting(price, cost string, stock int) string {
	f.t.Helper()
	var id string
	f.tx(func(tx *sqlx.Tx) error {
		p, err := f.s.Inventory.CreateProduct(f.ctx, tx, f.cid, inventory.ProductInput{SKU: "ART-" + price, Name: "牡丹画", Price: price,
			UnitCost: cost, MakerName: "王师傅", MakerSharePercent: "80"})
		if err != nil {
			return err
		}
		id = p.ID
		_, err = f.s.Inventory.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: f.stall,
			Lines: []inventory.ReceiptLine{{ProductID: p.ID, Qty: stock}}})
		return err
	})
	return id
}

func (f *fx) refund(orderID string, restock bool, items ...orders.RefundItem) (*orders.Refund, error) {
	var r *orders.Refund
	err := f.try(func(tx *sqlx.Tx) (err error) {
		r, err = f.s.Refund(f.ctx, tx, f.cid, orderID, pos.RefundInput{Items: items, Reason: "客人退货", Restock: restock,
			UserID: f.vol1, ApproverID: f.vol2})
		return
	})
	return r, err
}

// 1. A paid QR sale whose notification is lost while the queue is down: the
// reservation's own timer and the inventory sweep can no longer release its
// stock, the sale's expiry finds the provider paid and completes it (stock
// sold, proceeds posted), and the late notification then has no effect.
func TestLatePaymentAfterAQueueOutageCompletesTheSale(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	body := f.payInWallet(s) // the notification is stuck in the queue
	later := time.Now().Add(time.Hour)
	f.s.Inventory.Now = func() time.Time { return later }
	f.tx(func(tx *sqlx.Tx) error {
		released, err := f.s.Inventory.ExpireReservation(f.ctx, tx, f.cid, s.ReservationID)
		if err == nil && released {
			t.Error("the reservation's own timer released the stock of a sale still awaiting payment")
		}
		return err
	})
	if n, err := f.s.Inventory.SweepExpired(f.ctx, 100); err != nil || n != 0 {
		t.Fatalf("inventory sweep released %d reservations (%v)", n, err)
	}
	f.s.Inventory.Now = time.Now
	f.s.Now = func() time.Time { return later }
	if expired, err := f.s.ExpireSale(f.ctx, f.cid, s.Order.ID); err != nil || expired {
		t.Fatalf("expiry of a sale the provider says is paid: expired %v, %v", expired, err)
	}
	f.s.Now = nil
	got := f.sale(s.Order.ID)
	if got.Order.Status != orders.Paid || got.Payment.Status != orders.PaymentSucceeded || f.fundBalance().String() != "18.00" {
		t.Fatalf("sale %s payment %s fund %s", got.Order.Status, got.Payment.Status, f.fundBalance())
	}
	if l := f.level(f.pastry); l.OnHand != 4 || l.Reserved != 0 {
		t.Fatalf("stock %+v", l)
	}
	if st, err := f.deliver(body, time.Now(), secret); st != 200 || err != nil {
		t.Fatalf("late notification %d %v", st, err)
	}
	if f.fundBalance().String() != "18.00" || f.account("customer_refunds_payable", "") != "0.00" {
		t.Fatalf("the late notification changed money: fund %s suspense %s", f.fundBalance(), f.account("customer_refunds_payable", ""))
	}
	f.verifyLedger()
}

// 2. A refund reverses exactly the refunded units of the refunded lines.
func TestRefundReversesOnlyTheRefundedLine(t *testing.T) {
	f := setup(t, 5, 0)
	art := f.painting("100.00", "0.00", 2)
	f.openShift("0.00")
	sell := func() *pos.Sale {
		return f.mustSell("cash", "", nil, pos.SaleLine{ProductID: art, Qty: 1}, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	}
	s := sell()
	if f.account("maker_payable", "王师傅") != "80.00" || f.account("supplier_payable", "") != "20.00" || f.fundBalance().String() != "38.00" {
		t.Fatalf("after the sale: maker %s supplier %s fund %s", f.account("maker_payable", "王师傅"), f.account("supplier_payable", ""), f.fundBalance())
	}
	r, err := f.refund(s.Order.ID, true, orders.RefundItem{ProductID: f.pastry, Qty: 1})
	if err != nil || r.Amount.String() != "38.00" {
		t.Fatalf("refund %+v %v", r, err)
	}
	if f.account("maker_payable", "王师傅") != "80.00" || f.account("supplier_payable", "") != "0.00" || f.fundBalance().String() != "20.00" {
		t.Fatalf("after refunding the pastry (restocked): maker %s supplier %s fund %s, want 80.00 0.00 20.00",
			f.account("maker_payable", "王师傅"), f.account("supplier_payable", ""), f.fundBalance())
	}
	// Not restocked (damaged): the cost stays payable, the loss comes out of
	// the line's fund share, the rest is written off where the treasurer sees it.
	s2 := sell()
	if _, err := f.refund(s2.Order.ID, false, orders.RefundItem{ProductID: f.pastry, Qty: 1}); err != nil {
		t.Fatal(err)
	}
	if f.account("supplier_payable", "") != "20.00" || f.fundBalance().String() != "40.00" || f.account("fund_deficit", "") != "20.00" {
		t.Fatalf("after a damaged pastry: supplier %s fund %s write-off %s, want 20.00 40.00 20.00",
			f.account("supplier_payable", ""), f.fundBalance(), f.account("fund_deficit", ""))
	}
	if l := f.level(f.pastry); l.OnHand != 4 {
		t.Fatalf("damaged goods must not return to stock: %+v", l)
	}
	f.verifyLedger()
}

// 3. Money that cannot complete its sale is booked to suspense, and the
// treasurer can refund it or complete the sale.
func TestMoneyThatCannotCompleteASaleIsHeldInSuspense(t *testing.T) {
	f := setup(t, 5, 0)
	f.tx(func(tx *sqlx.Tx) error { return payment.SaveStaticImage(f.ctx, tx, f.cid, "", tinyPNG(t), f.admin) })
	st := f.mustSell("qr", "static", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	later := time.Now().Add(11 * time.Minute)
	f.s.Now = func() time.Time { return later }
	if ok, err := f.s.ExpireSale(f.ctx, f.cid, st.Order.ID); err != nil || !ok {
		t.Fatalf("expire %v %v", ok, err)
	}
	f.s.Now = nil
	// The volunteer confirms the money after the sale expired: no bare 409.
	var out pos.Outcome
	f.tx(func(tx *sqlx.Tx) (err error) {
		_, out, err = f.s.ConfirmStatic(f.ctx, tx, f.cid, st.Order.ID, f.vol1)
		return
	})
	if out.Kind != pos.HeldInSuspense || out.Reason != orders.HoldAfterExpired {
		t.Fatalf("outcome %+v", out)
	}
	if f.account("customer_refunds_payable", "") != "38.00" || f.account("provider_clearing", "static") != "38.00" || f.fundBalance().String() != "0.00" {
		t.Fatalf("suspense %s clearing %s fund %s", f.account("customer_refunds_payable", ""), f.account("provider_clearing", "static"), f.fundBalance())
	}
	f.verifyLedger()
	// The treasurer completes the sale: the pastry is still there.
	var sale *pos.Sale
	f.tx(func(tx *sqlx.Tx) (err error) {
		sale, err = f.s.CompleteHeld(f.ctx, tx, f.cid, out.Suspense.ID, f.admin)
		return
	})
	if sale.Order.Status != orders.Paid || f.fundBalance().String() != "18.00" || f.account("customer_refunds_payable", "") != "0.00" {
		t.Fatalf("completed: %s fund %s suspense %s", sale.Order.Status, f.fundBalance(), f.account("customer_refunds_payable", ""))
	}
	if l := f.level(f.pastry); l.OnHand != 4 {
		t.Fatalf("stock %+v", l)
	}
	f.verifyLedger()

	// A sandbox payment after a cancel: held, then refunded through the
	// provider by the outbox job.
	qr := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	body := f.payInWallet(qr)
	if _, err := f.s.Cancel(f.ctx, f.cid, qr.Order.ID, f.vol1); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("cancelling a sale the customer has just paid: %v", err)
	}
	// (the wallet already took the money, so the cancel confirmed it instead)
	if got := f.sale(qr.Order.ID); got.Order.Status != orders.Paid {
		t.Fatalf("cancel after payment must leave the sale paid, got %s", got.Order.Status)
	}
	if st, err := f.deliver(body, time.Now(), secret); st != 200 || err != nil {
		t.Fatalf("deliver %d %v", st, err)
	}
	// The volunteer cancels; the provider still reports money taken for it
	// (its close raced the customer's tap).
	late := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	if _, err := f.s.Cancel(f.ctx, f.cid, late.Order.ID, f.vol1); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	f.tx(func(tx *sqlx.Tx) error { // the wallet's own books: it took the money
		_, err := tx.Exec(`UPDATE sandbox_payments SET status='paid', paid_at=now(), txn_id='sbx_late_'||$1 WHERE merchant_ref=$1`, late.Payment.MerchantRef)
		return err
	})
	lateBody := payment.NotificationBody("evt_late_"+late.Payment.ID, payment.PaymentSucceeded, late.Payment.ID, late.Order.Total, "sbx_late_"+late.Payment.MerchantRef, time.Now())
	if st, err := f.deliver(lateBody, time.Now(), secret); st != 200 || err != nil {
		t.Fatalf("late notification %d %v", st, err)
	}
	held, err := orders.SuspenseOfPayment(f.ctx, f.d, late.Payment.ID)
	if err != nil || held.Reason != orders.HoldAfterCancelled || held.Amount.String() != "38.00" {
		t.Fatalf("held %+v %v", held, err)
	}
	f.tx(func(tx *sqlx.Tx) error { _, err := f.s.RefundHeld(f.ctx, tx, f.cid, held.ID, f.admin); return err })
	if err := f.s.SubmitSuspenseRefund(f.ctx, f.cid, held.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SubmitSuspenseRefund(f.ctx, f.cid, held.ID); err != nil { // a retried job
		t.Fatal(err)
	}
	held, err = orders.SuspenseOfPayment(f.ctx, f.d, late.Payment.ID)
	if err != nil || held.Status != orders.SuspenseRefunded || f.account("customer_refunds_payable", "") != "0.00" {
		t.Fatalf("after refund: %+v %v suspense %s", held, err, f.account("customer_refunds_payable", ""))
	}
	var refunded money.Amount
	if err := f.d.Get(&refunded, `SELECT refunded FROM sandbox_payments WHERE merchant_ref=$1`, late.Payment.MerchantRef); err != nil || refunded.String() != "38.00" {
		t.Fatalf("the wallet refunded %s (%v), want once 38.00", refunded, err)
	}
	f.verifyLedger()
}

// 4. Closing a shift moves the counted cash to the bank and the difference
// to over/short; the drawer ends at zero.
func TestShiftCloseSettlesTheDrawer(t *testing.T) {
	f := setup(t, 10, 0)
	sh := f.openShift("50.00")
	for i := 0; i < 5; i++ {
		f.mustSell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	}
	// expected 50 + 5×38 = 240; counted 238: short 2.
	var closed *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		closed, err = f.s.Close(f.ctx, tx, f.cid, sh.ID, money.MustParse("238.00"), f.vol1)
		return
	})
	if closed.Variance.String() != "-2.00" {
		t.Fatalf("variance %s", closed.Variance)
	}
	if f.account("cash_drawer", f.stall) != "0.00" || f.account("bank", "") != "188.00" || f.account("cash_float", "") != "0.00" ||
		f.account("cash_over_short", "") != "2.00" {
		t.Fatalf("drawer %s bank %s float %s over/short %s", f.account("cash_drawer", f.stall), f.account("bank", ""),
			f.account("cash_float", ""), f.account("cash_over_short", ""))
	}
	f.verifyLedger()
}

// 5. The provider is never called inside a database transaction: a refund
// whose transaction is retried after a deadlock calls the provider once, from
// the outbox job, with the refund's own stable id.
type countingProvider struct {
	payment.Provider
	refunds atomic.Int32
}

func (c *countingProvider) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	c.refunds.Add(1)
	return c.Provider.Refund(ctx, r)
}

func TestProviderRefundRunsOutsideTheTransactionOnce(t *testing.T) {
	f := setup(t, 5, 0)
	counting := &countingProvider{Provider: f.sandbox}
	f.s.Providers = payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, counting)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	if st, err := f.deliver(f.payInWallet(s), time.Now(), secret); st != 200 || err != nil {
		t.Fatalf("deliver %d %v", st, err)
	}
	attempts := 0
	var r *orders.Refund
	err := db.InTx(f.ctx, f.d, func(tx *sqlx.Tx) (err error) {
		attempts++
		r, err = f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: []orders.RefundItem{{ProductID: f.pastry, Qty: 1}},
			Reason: "客人退货", Restock: true, UserID: f.vol1, ApproverID: f.vol2})
		if err == nil && attempts == 1 {
			return &pq.Error{Code: "40P01", Message: "deadlock detected (simulated)"}
		}
		return err
	})
	if err != nil || attempts != 2 {
		t.Fatalf("refund: %v after %d attempts", err, attempts)
	}
	if n := counting.refunds.Load(); n != 0 {
		t.Fatalf("the provider was called %d times inside the transaction", n)
	}
	if r.Status != orders.PaymentPending || f.account("customer_refunds_payable", "") != "38.00" {
		t.Fatalf("before the job: refund %s, owed %s", r.Status, f.account("customer_refunds_payable", ""))
	}
	for i := 0; i < 2; i++ { // the job, and a retry of it
		if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := counting.refunds.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times", n)
	}
	var refunds []orders.Refund
	refunds, err = orders.Refunds(f.ctx, f.d, s.Order.ID)
	if err != nil || len(refunds) != 1 || refunds[0].Status != orders.PaymentSucceeded {
		t.Fatalf("refunds %+v %v", refunds, err)
	}
	if f.account("customer_refunds_payable", "") != "0.00" || f.account("provider_clearing", "sandbox") != "0.00" || f.fundBalance().String() != "0.00" {
		t.Fatalf("after the refund: owed %s clearing %s fund %s", f.account("customer_refunds_payable", ""),
			f.account("provider_clearing", "sandbox"), f.fundBalance())
	}
	f.verifyLedger()
}

// 8. Cancelling a sale that was just paid keeps the payment and says so.
func TestCancellingAJustPaidSaleKeepsItPaid(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	f.payInWallet(s)
	sale, err := f.s.Cancel(f.ctx, f.cid, s.Order.ID, f.vol1)
	if !apperr.Is(err, apperr.Conflict) || sale == nil || sale.Order.Status != orders.Paid {
		t.Fatalf("cancel of a just-paid sale: %v %+v", err, sale)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Paid || f.fundBalance().String() != "18.00" {
		t.Fatalf("the confirmation was rolled back: %s fund %s", got.Order.Status, f.fundBalance())
	}
	f.verifyLedger()
}

// 10. A discount can never sell goods below what they owe: a painting
// discounted to ¥0.00 is refused like one discounted to ¥0.01.
func TestDiscountBelowCostIsRefusedEvenAtZero(t *testing.T) {
	f := setup(t, 5, 0)
	art := f.painting("168.00", "70.40", 1)
	f.openShift("0.00")
	for _, d := range []string{"167.99", "168.00"} {
		err := f.try(func(tx *sqlx.Tx) error {
			disc := money.MustParse(d)
			_, err := f.s.Checkout(f.ctx, tx, f.cid, pos.CheckoutInput{LocationID: f.stall, UserID: f.vol1, Method: "cash",
				Lines: []pos.SaleLine{{ProductID: art, Qty: 1}}, Discount: &disc, ApproverID: f.vol2})
			return err
		})
		if apperr.FieldOf(err) != "discount" {
			t.Fatalf("discount %s: %v", d, err)
		}
	}
	if l := f.level(art); l.OnHand != 1 || l.Reserved != 0 {
		t.Fatalf("the painting left stock: %+v", l)
	}
	f.verifyLedger()
}

// 11. Cash is paid back only from a drawer that holds it.
func TestCashRefundNeedsTheCashInTheDrawer(t *testing.T) {
	f := setup(t, 5, 0)
	sh := f.openShift("0.00")
	s := f.mustSell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 2})
	f.tx(func(tx *sqlx.Tx) error {
		_, err := f.s.Close(f.ctx, tx, f.cid, sh.ID, money.MustParse("76.00"), f.vol1)
		return err
	})
	f.openShift("0.00")
	if _, err := f.refund(s.Order.ID, true, orders.RefundItem{ProductID: f.pastry, Qty: 2}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a ¥76 cash refund from an empty drawer: %v", err)
	}
	if got := f.sale(s.Order.ID); !got.Order.RefundedTotal.IsZero() {
		t.Fatalf("a refused refund changed the sale: %s", got.Order.RefundedTotal)
	}
	f.verifyLedger()
}

// Real providers send several notifications for one payment. Twenty valid
// payment.succeeded notifications with distinct ids, all at once: one sale
// paid, and no deadlock (every writer locks the order, then the payment,
// before it records the notification).
func TestManyNotificationsForOnePaymentDoNotDeadlock(t *testing.T) {
	f := setup(t, 5, 0)
	s := f.mustSell("qr", "sandbox", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	f.payInWallet(s)
	before := db.Retries()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := payment.NotificationBody(fmt.Sprintf("evt_%s_%d", s.Payment.ID[:8], i), payment.PaymentSucceeded, s.Payment.ID, s.Order.Total, "sbx_many", time.Now())
			if st, err := f.deliver(body, time.Now(), secret); st != 200 || err != nil {
				t.Errorf("notification %d: %d %v", i, st, err)
			}
		}(i)
	}
	wg.Wait()
	if n := db.Retries() - before; n != 0 {
		t.Errorf("%d transactions were retried (deadlocks) for twenty notifications of one payment", n)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.Paid || f.fundBalance().String() != "18.00" {
		t.Fatalf("sale %s fund %s", got.Order.Status, f.fundBalance())
	}
	var applied int
	if err := f.d.Get(&applied, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1 AND outcome='applied'`, s.Payment.ID); err != nil || applied != 1 {
		t.Fatalf("%d notifications applied (%v)", applied, err)
	}
	f.verifyLedger()
}
