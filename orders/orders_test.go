package orders_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
)

func community(t *testing.T, d *sqlx.DB) string {
	t.Helper()
	var id string
	slug := "t-" + orders.MerchantRef()[2:14]
	if err := d.Get(&id, `INSERT INTO communities (name, slug) VALUES ($1,$2) RETURNING id`, "Test "+slug, slug); err != nil {
		t.Fatal(err)
	}
	return id
}

const prodA = "00000000-0000-4000-8000-00000000000a"
const prodB = "00000000-0000-4000-8000-00000000000b"

func newOrder(t *testing.T, d *sqlx.DB, cid, prefix string) *orders.Order {
	t.Helper()
	var o *orders.Order
	err := db.InTx(context.Background(), d, func(tx *sqlx.Tx) error {
		var err error
		o, err = orders.Create(context.Background(), tx, orders.New{CommunityID: cid, Prefix: prefix, Lines: []orders.NewLine{
			{ProductID: prodA, Name: "牡丹酥", Qty: 2, UnitPrice: money.MustParse("38.00"), UnitCost: money.MustParse("20.00")},
			{ProductID: prodB, Name: "明信片", Qty: 3, UnitPrice: money.MustParse("5.50"), UnitCost: money.MustParse("1.00")},
		}})
		if err != nil {
			return err
		}
		_, err = orders.CreatePayment(context.Background(), tx, orders.NewPayment{CommunityID: cid, OrderID: o.ID, Provider: payment.Cash, Amount: o.Total})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOrderNumbersAreReadableUniqueAndNeverReused(t *testing.T) {
	d := dbtest.Open(t)
	cid := community(t, d)
	o := newOrder(t, d, cid, "MD")
	if !regexp.MustCompile(`^MD-\d{4}-0001$`).MatchString(o.Number) {
		t.Fatalf("first number %q", o.Number)
	}
	if o.Total.String() != "92.50" || o.Status != orders.AwaitingPayment {
		t.Fatalf("total %s status %s", o.Total, o.Status)
	}
	// Two tablets (two stall prefixes) selling at once draw from one counter.
	var mu sync.Mutex
	seen := map[string]bool{o.Number[len(o.Number)-4:]: true}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			prefix := "MD"
			if i%2 == 1 {
				prefix = "LY"
			}
			o := newOrder(t, d, cid, prefix)
			mu.Lock()
			defer mu.Unlock()
			seq := o.Number[len(o.Number)-4:]
			if seen[seq] {
				t.Errorf("sequence %s used twice", seq)
			}
			seen[seq] = true
		}(i)
	}
	wg.Wait()
	if len(seen) != 21 {
		t.Fatalf("%d distinct numbers, want 21", len(seen))
	}
	// Another community has its own counter.
	if o2 := newOrder(t, d, community(t, d), "MD"); o2.Number[len(o2.Number)-4:] != "0001" {
		t.Fatalf("other community got %s", o2.Number)
	}
}

// pay does what the stall's confirmation does, as far as the schema cares:
// the payment succeeds, the order is paid and its proceeds are posted, in
// one transaction (the database refuses a paid order without proceeds).
func pay(ctx context.Context, tx *sqlx.Tx, o *orders.Order) (bool, error) {
	p, err := orders.PaymentOf(ctx, tx, o.ID)
	if err != nil {
		return false, err
	}
	if _, err := orders.SucceedPayment(ctx, tx, p.ID, "", "", time.Now()); err != nil {
		return false, err
	}
	changed, err := orders.MarkPaid(ctx, tx, o.ID, time.Now())
	if err != nil || !changed {
		return changed, err
	}
	pr := fund.Proceeds{CommunityID: o.CommunityID, SourceKind: fund.SourceSale, SourceID: o.ID, SourceRef: o.Number,
		DebitAccount: fund.Bank(), Gross: o.Total}
	for _, l := range o.Lines {
		pr.SupplierCost = pr.SupplierCost.Add(l.CostAmount)
		pr.MakerShare = pr.MakerShare.Add(l.MakerShare)
	}
	_, err = fund.New(nil).PostProceeds(ctx, tx, pr)
	return changed, err
}

func TestPaidOrderWithoutProceedsIsRefusedByTheDatabase(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	cid := community(t, d)
	o := newOrder(t, d, cid, "MD")
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		p, err := orders.PaymentOf(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		if _, err := orders.SucceedPayment(ctx, tx, p.ID, "", "", time.Now()); err != nil {
			return err
		}
		_, err = orders.MarkPaid(ctx, tx, o.ID, time.Now())
		return err
	})
	if !db.IsCheckViolation(err, "orders_paid_has_proceeds") {
		t.Fatalf("a paid order without its proceeds must be refused at commit, got %v", err)
	}
	got, err := orders.Get(ctx, d, cid, o.ID)
	if err != nil || got.Status != orders.AwaitingPayment {
		t.Fatalf("after the refused commit: %v %v", got, err)
	}
	// With its payment still pending, too.
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error { _, err := orders.MarkPaid(ctx, tx, o.ID, time.Now()); return err })
	if !db.IsCheckViolation(err, "orders_paid_has_proceeds") {
		t.Fatalf("a paid order with a pending payment must be refused, got %v", err)
	}
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error { _, err := pay(ctx, tx, o); return err }); err != nil {
		t.Fatalf("paid with proceeds: %v", err)
	}
}

func TestOrderLinesKeepTheirMoney(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	cid := community(t, d)
	var o *orders.Order
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) (err error) {
		o, err = orders.Create(ctx, tx, orders.New{CommunityID: cid, Prefix: "MD", Discount: money.MustParse("10.00"), Lines: []orders.NewLine{
			{ProductID: prodA, Name: "牡丹画", Qty: 1, UnitPrice: money.MustParse("100.00"), MakerName: "王师傅", MakerPercent: decimal.NewFromInt(80)},
			{ProductID: prodB, Name: "牡丹酥", Qty: 1, UnitPrice: money.MustParse("38.00"), UnitCost: money.MustParse("20.00")},
		}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// ¥10 off 138 by largest remainder: 7.25 → 7.25 (painting), 2.75 (pastry).
	want := map[string][5]string{ // net, cost, maker, fee, fund
		prodA: {"92.75", "0.00", "74.20", "0.00", "18.55"},
		prodB: {"35.25", "20.00", "0.00", "0.00", "15.25"},
	}
	for _, l := range o.Lines {
		got := [5]string{l.NetAmount.String(), l.CostAmount.String(), l.MakerShare.String(), l.FeeAmount.String(), l.FundAmount.String()}
		if got != want[l.ProductID] {
			t.Errorf("%s: net, cost, maker, fee, fund = %v, want %v", l.Name, got, want[l.ProductID])
		}
	}
	// A discount that would sell the pastry below its cost is refused.
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := orders.Create(ctx, tx, orders.New{CommunityID: cid, Prefix: "MD", Discount: money.MustParse("38.00"), Lines: []orders.NewLine{
			{ProductID: prodB, Name: "牡丹酥", Qty: 1, UnitPrice: money.MustParse("38.00"), UnitCost: money.MustParse("20.00")},
		}})
		return err
	})
	if apperr.FieldOf(err) != "discount" {
		t.Fatalf("a discount to ¥0.00 below cost must be refused on the discount: %v", err)
	}
	// The database itself refuses a line whose parts do not add up.
	if _, err := d.Exec(`UPDATE order_lines SET fund_amount = fund_amount + 1 WHERE order_id=$1`, o.ID); !db.IsCheckViolation(err, "order_lines_money_adds_up") {
		t.Fatalf("want the lines' money check, got %v", err)
	}
}

func TestOrderStateMachine(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	cid := community(t, d)
	tx := func(fn func(tx *sqlx.Tx) error) error { return db.InTx(ctx, d, fn) }

	paid := newOrder(t, d, cid, "MD")
	var changed bool
	if err := tx(func(tx *sqlx.Tx) (err error) { changed, err = pay(ctx, tx, paid); return }); err != nil || !changed {
		t.Fatalf("first MarkPaid: %v %v", changed, err)
	}
	if err := tx(func(tx *sqlx.Tx) (err error) { changed, err = orders.MarkPaid(ctx, tx, paid.ID, time.Now()); return }); err != nil || changed {
		t.Fatalf("second MarkPaid must be a no-op: %v %v", changed, err)
	}
	if err := tx(func(tx *sqlx.Tx) (err error) { changed, err = orders.Close(ctx, tx, paid.ID, orders.Expired); return }); err != nil || changed {
		t.Fatalf("a paid sale cannot expire: %v %v", changed, err)
	}

	exp := newOrder(t, d, cid, "MD")
	if err := tx(func(tx *sqlx.Tx) (err error) { changed, err = orders.Close(ctx, tx, exp.ID, orders.Expired); return }); err != nil || !changed {
		t.Fatalf("expire: %v %v", changed, err)
	}
	err := tx(func(tx *sqlx.Tx) (err error) { _, err = orders.MarkPaid(ctx, tx, exp.ID, time.Now()); return })
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("paying an expired sale is a conflict, got %v", err)
	}
	p, err := orders.PaymentOf(ctx, d, exp.ID)
	if err != nil || p.Status != orders.Expired {
		t.Fatalf("payment of an expired sale is %s", p.Status)
	}
	// Another community's id is not found.
	if _, err := orders.Get(ctx, d, community(t, d), paid.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("cross-community get: %v", err)
	}
	// The schema itself refuses a paid order without paid_at.
	if _, err := d.Exec(`UPDATE orders SET status='paid' WHERE id=$1`, exp.ID); !db.IsCheckViolation(err, "") {
		t.Fatalf("want check violation, got %v", err)
	}
}

func TestRefundsByLine(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	cid := community(t, d)
	o := newOrder(t, d, cid, "MD")
	refund := func(items ...orders.RefundItem) (*orders.Refund, error) {
		var r *orders.Refund
		err := db.InTx(ctx, d, func(tx *sqlx.Tx) (err error) {
			r, _, err = orders.CreateRefund(ctx, tx, cid, o.ID, orders.NewRefund{Items: items, Reason: "broken box", Restock: true})
			return
		})
		return r, err
	}
	if _, err := refund(orders.RefundItem{ProductID: prodA, Qty: 1}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("refunding an unpaid sale: %v", err)
	}
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error { _, err := pay(ctx, tx, o); return err }); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		items []orders.RefundItem
		want  string // amount, or error code
	}{
		{"one pastry", []orders.RefundItem{{ProductID: prodA, Qty: 1}}, "38.00"},
		{"more pastries than are left", []orders.RefundItem{{ProductID: prodA, Qty: 2}}, "invalid"},
		{"a product not in the sale", []orders.RefundItem{{ProductID: "00000000-0000-4000-8000-0000000000ff", Qty: 1}}, "invalid"},
		{"zero qty", []orders.RefundItem{{ProductID: prodB, Qty: 0}}, "invalid"},
		{"the rest", []orders.RefundItem{{ProductID: prodA, Qty: 1}, {ProductID: prodB, Qty: 3}}, "54.50"},
		{"nothing left", []orders.RefundItem{{ProductID: prodB, Qty: 1}}, "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := refund(c.items...)
			got := ""
			if err != nil {
				got = string(apperr.CodeOf(err))
			} else {
				got = r.Amount.String()
			}
			if got != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
		})
	}
	o2, err := orders.Get(ctx, d, cid, o.ID)
	if err != nil || !o2.RefundedTotal.Equal(o2.Total) || !o2.Net().IsZero() {
		t.Fatalf("refunded %s of %s (%v)", o2.RefundedTotal, o2.Total, err)
	}
	rs, err := orders.Refunds(ctx, d, o.ID)
	if err != nil || len(rs) != 2 || len(rs[1].Lines) != 2 {
		t.Fatalf("refunds %+v", rs)
	}

}
