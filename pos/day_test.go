package pos_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

func tinyPNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A scripted day at the stall: cash, sandbox QR, static QR, an expiry, a
// cancellation and two refunds. Afterwards stock = receipts − sold +
// restocked, the fund = Σ net proceeds − reversals, the ledger verifies and
// the drawer counted right closes with zero variance.
func TestScriptedDay(t *testing.T) {
	f := setup(t, 30, 100)
	shift := f.openShift("200.00")
	pastry := func(n int) pos.SaleLine { return pos.SaleLine{ProductID: f.pastry, Qty: n} }
	card := func(n int) pos.SaleLine { return pos.SaleLine{ProductID: f.card, Qty: n} }

	// Morning cash: three boxes paid with ¥50 notes, four postcards exact.
	for i := 0; i < 3; i++ {
		if s := f.mustSell("cash", "", amt("50"), pastry(1)); s.Payment.Change.String() != "12.00" {
			t.Fatalf("change %s", s.Payment.Change)
		}
	}
	cards := f.mustSell("cash", "", nil, card(4))

	// Two sandbox QR sales paid, one left to expire, one cancelled.
	qr1 := f.mustSell("qr", "sandbox", nil, pastry(1))
	qr2 := f.mustSell("qr", "sandbox", nil, pastry(1))
	for _, s := range []*pos.Sale{qr1, qr2} {
		if st, err := f.deliver(f.payInWallet(s), time.Now(), secret); st != 200 {
			t.Fatalf("deliver %d %v", st, err)
		}
	}
	lapsed := f.mustSell("qr", "sandbox", nil, pastry(2))
	walked := f.mustSell("qr", "sandbox", nil, card(3))
	if _, err := f.s.Cancel(f.ctx, f.cid, walked.Order.ID, f.vol1); err != nil {
		t.Fatalf("cancel: %v", err)
	}

	// Static 收款码: uploaded, sold, confirmed by the volunteer (twice: one effect).
	f.tx(func(tx *sqlx.Tx) error { return payment.SaveStaticImage(f.ctx, tx, f.cid, "", tinyPNG(t), f.admin) })
	st := f.mustSell("qr", "static", nil, pastry(1))
	for i := 0; i < 2; i++ {
		f.tx(func(tx *sqlx.Tx) error {
			_, _, err := f.s.ConfirmStatic(f.ctx, tx, f.cid, st.Order.ID, f.vol1)
			return err
		})
	}

	// The lapsed sale expires by its job.
	clock := time.Now().Add(11 * time.Minute)
	f.s.Now = func() time.Time { return clock }
	if _, err := f.s.ExpireSale(f.ctx, f.cid, lapsed.Order.ID); err != nil {
		t.Fatalf("expire: %v", err)
	}
	f.s.Now = nil

	// Refunds need a second person's PIN.
	if _, err := f.s.Approve(f.ctx, f.cid, f.vol1, pos.Approver{UserID: f.vol1, PIN: "1234"}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("approving one's own refund: %v", err)
	}
	if _, err := f.s.Approve(f.ctx, f.cid, f.vol1, pos.Approver{UserID: f.vol2, PIN: "0000"}); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("wrong approver PIN: %v", err)
	}
	approver, err := f.s.Approve(f.ctx, f.cid, f.vol1, pos.Approver{UserID: f.vol2, PIN: "5678"})
	if err != nil {
		t.Fatal(err)
	}
	refund := func(s *pos.Sale, restock bool, items ...orders.RefundItem) *orders.Refund {
		var r *orders.Refund
		f.tx(func(tx *sqlx.Tx) (err error) {
			r, err = f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: items, Reason: "顾客退货", Restock: restock,
				UserID: f.vol1, ApproverID: approver.ID})
			return
		})
		return r
	}
	// One postcard of the four back into stock, cash from the drawer.
	if r := refund(cards, true, orders.RefundItem{ProductID: f.card, Qty: 1}); r.Amount.String() != "5.50" || r.Status != "succeeded" {
		t.Fatalf("cash refund %+v", r)
	}
	// A QR box refunded in full through the sandbox, box damaged (no restock).
	refund(qr1, false, orders.RefundItem{ProductID: f.pastry, Qty: 1})
	if err := f.try(func(tx *sqlx.Tx) error {
		_, err := f.s.Refund(f.ctx, tx, f.cid, qr1.Order.ID, pos.RefundInput{Items: []orders.RefundItem{{ProductID: f.pastry, Qty: 1}},
			Reason: "again", UserID: f.vol1, ApproverID: approver.ID})
		return err
	}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("refunding more than was sold: %v", err)
	}

	// Stock = receipts − sold + restocked.
	if l := f.level(f.pastry); l.OnHand != 30-(3+2+1) || l.Reserved != 0 {
		t.Fatalf("pastry %+v, want on hand 24", l)
	}
	if l := f.level(f.card); l.OnHand != 100-4+1 || l.Reserved != 0 {
		t.Fatalf("cards %+v, want on hand 97", l)
	}
	problems, err := f.s.Inventory.Verify(f.ctx, f.d, f.cid)
	if err != nil || len(problems) > 0 {
		t.Fatalf("inventory verify: %v %v", problems, err)
	}

	// Fund = Σ net − reversals: 6 boxes × 18 + 4 cards × 4.50 − 4.50 − 18.
	want := money.MustParse("103.50")
	if got := f.fundBalance(); !got.Equal(want) {
		t.Fatalf("fund %s, want %s", got, want)
	}
	sum := money.Zero
	for _, s := range []*pos.Sale{cards, qr1, qr2, st} {
		p, err := f.s.Fund.SaleFund(f.ctx, f.d, f.cid, fund.SourceSale, s.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum = sum.Add(p.Net)
	}
	boxes := f.mustSaleFunds(t)
	if !sum.Add(boxes).Equal(want) {
		t.Fatalf("receipts add up to %s, fund says %s", sum.Add(boxes), want)
	}
	f.verifyLedger()

	// The drawer: 200 + 3 × 38 + 22 − 5.50 = 330.50; counted right, no variance.
	var closed *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		closed, err = f.s.Close(f.ctx, tx, f.cid, shift.ID, money.MustParse("330.50"), f.vol1)
		return
	})
	if closed.ExpectedCash.String() != "330.50" || !closed.Variance.IsZero() {
		t.Fatalf("expected %s variance %s", closed.ExpectedCash, closed.Variance)
	}
	// Statuses of the day.
	for s, want := range map[*pos.Sale]string{lapsed: orders.Expired, walked: orders.Cancelled, st: orders.Paid, qr2: orders.Paid} {
		if got := f.sale(s.Order.ID).Order.Status; got != want {
			t.Errorf("%s is %s, want %s", s.Order.Number, got, want)
		}
	}
}

// mustSaleFunds sums what the three cash box sales put in the fund.
func (f *fx) mustSaleFunds(t *testing.T) money.Amount {
	var ids []string
	if err := f.d.Select(&ids, `SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id JOIN order_lines l ON l.order_id = o.id
		WHERE o.community_id=$1 AND p.method='cash' AND l.product_id=$2`, f.cid, f.pastry); err != nil {
		t.Fatal(err)
	}
	sum := money.Zero
	for _, id := range ids {
		p, err := f.s.Fund.SaleFund(f.ctx, f.d, f.cid, fund.SourceSale, id)
		if err != nil {
			t.Fatal(err)
		}
		sum = sum.Add(p.Net)
	}
	return sum
}

func TestShiftHandoverAndVariance(t *testing.T) {
	f := setup(t, 10, 0)
	sh := f.openShift("100")
	f.mustSell("cash", "", amt("100"), pos.SaleLine{ProductID: f.pastry, Qty: 1})
	err := f.try(func(tx *sqlx.Tx) error {
		_, err := f.s.Open(f.ctx, tx, f.cid, pos.OpenShift{LocationID: f.stall, UserID: f.vol2, OpeningFloat: money.Zero})
		return err
	})
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a second open shift at one stall must be refused: %v", err)
	}
	var closed, next *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		closed, next, err = f.s.Handover(f.ctx, tx, f.cid, sh.ID, money.MustParse("137.00"), f.vol1, f.vol2, "")
		return
	})
	if closed.ExpectedCash.String() != "138.00" || closed.Variance.String() != "-1.00" {
		t.Fatalf("expected %s variance %s", closed.ExpectedCash, closed.Variance)
	}
	if next.OpeningFloat.String() != "137.00" || next.HandoverFrom == nil || *next.HandoverFrom != sh.ID || next.OpenedBy != f.vol2 {
		t.Fatalf("next shift %+v", next)
	}
	// A sale now lands in the new drawer.
	f.mustSell("cash", "", nil, pos.SaleLine{ProductID: f.pastry, Qty: 1})
	var c2 *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		c2, err = f.s.Close(f.ctx, tx, f.cid, next.ID, money.MustParse("175.00"), f.vol2)
		return
	})
	if !c2.Variance.IsZero() {
		t.Fatalf("variance %s", c2.Variance)
	}
}

// A discount needs a second PIN; the fund gets the discounted net; refunds
// give back each line's discounted share and, in full, exactly the total.
func TestDiscountedSaleAndItsRefunds(t *testing.T) {
	f := setup(t, 10, 10)
	f.openShift("0")
	off := money.MustParse("8.50")
	in := pos.CheckoutInput{LocationID: f.stall, UserID: f.vol1, Method: "cash", Discount: &off,
		Lines: []pos.SaleLine{{ProductID: f.pastry, Qty: 2}, {ProductID: f.card, Qty: 1}}}
	if err := f.try(func(tx *sqlx.Tx) error { _, err := f.s.Checkout(f.ctx, tx, f.cid, in); return err }); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a discount without a second PIN: %v", err)
	}
	in.ApproverID = f.vol2
	// A discount that sells below cost (81.50 − 45.00 < 41.00) is refused
	// before any money is taken: the fund cannot post a loss.
	tooMuch := money.MustParse("45.00")
	below := in
	below.Discount = &tooMuch
	err := f.try(func(tx *sqlx.Tx) error { _, err := f.s.Checkout(f.ctx, tx, f.cid, below); return err })
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Field != "discount" {
		t.Fatalf("a discount below cost: %v", err)
	}
	var s *pos.Sale
	f.tx(func(tx *sqlx.Tx) (err error) { s, err = f.s.Checkout(f.ctx, tx, f.cid, in); return })
	// 81.50 − 8.50 = 73.00; net = 73.00 − 41.00 = 32.00.
	if s.Order.Total.String() != "73.00" || s.FundAmount.String() != "32.00" {
		t.Fatalf("total %s fund %s", s.Order.Total, s.FundAmount)
	}
	var approvals int
	if err := f.d.Get(&approvals, `SELECT count(*) FROM pos_approvals WHERE action='discount' AND entity_id=$1 AND approved_by=$2`, s.Order.ID, f.vol2); err != nil {
		t.Fatal(err)
	}
	if approvals != 1 {
		t.Fatalf("discount approvals %d", approvals)
	}
	refund := func(items ...orders.RefundItem) *orders.Refund {
		var r *orders.Refund
		f.tx(func(tx *sqlx.Tx) (err error) {
			r, err = f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: items, Reason: "退货", Restock: true, UserID: f.vol1, ApproverID: f.vol2})
			return
		})
		return r
	}
	// One box: 38.00 × 73/81.50 = 34.04.
	if r := refund(orders.RefundItem{ProductID: f.pastry, Qty: 1}); r.Amount.String() != "34.04" {
		t.Fatalf("first refund %s", r.Amount)
	}
	// The rest: exactly what is left of 73.00.
	if r := refund(orders.RefundItem{ProductID: f.pastry, Qty: 1}, orders.RefundItem{ProductID: f.card, Qty: 1}); r.Amount.String() != "38.96" {
		t.Fatalf("last refund %s", r.Amount)
	}
	if got := f.sale(s.Order.ID); !got.Order.Net().IsZero() || !got.FundAmount.IsZero() || !f.fundBalance().IsZero() {
		t.Fatalf("after refunding all: net %s fund share %s fund %s", got.Order.Net(), got.FundAmount, f.fundBalance())
	}
	f.verifyLedger()
}
