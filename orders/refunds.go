package orders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Refund gives back part or all of a paid order.
type Refund struct {
	ID          string       `db:"id" json:"id"`
	CommunityID string       `db:"community_id" json:"-"`
	OrderID     string       `db:"order_id" json:"order_id"`
	PaymentID   string       `db:"payment_id" json:"-"`
	Amount      money.Amount `db:"amount" json:"amount"`
	Reason      string       `db:"reason" json:"reason"`
	Restock     bool         `db:"restock" json:"restock"`
	Status      string       `db:"status" json:"status"`
	ProviderRef string       `db:"provider_ref" json:"-"`
	CreatedBy   *string      `db:"created_by" json:"-"`
	ApprovedBy  *string      `db:"approved_by" json:"-"`
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	Lines       []RefundLine `db:"-" json:"lines"`
}

// RefundLine is a quantity of one order line given back.
type RefundLine struct {
	OrderLineID string       `db:"order_line_id" json:"-"`
	ProductID   string       `db:"product_id" json:"product_id"`
	Name        string       `db:"name" json:"name"`
	Qty         int          `db:"qty" json:"qty"`
	Amount      money.Amount `db:"amount" json:"amount"`
	UnitCost    money.Amount `db:"unit_cost" json:"-"`
}

// RefundItem asks for qty of a product back.
type RefundItem struct {
	ProductID string `json:"product_id"`
	Qty       int    `json:"qty"`
}

// NewRefund describes a refund by lines.
type NewRefund struct {
	Items      []RefundItem
	Reason     string
	Restock    bool
	CreatedBy  string
	ApprovedBy string
}

const refundCols = `id, community_id, order_id, payment_id, amount, reason, restock, status, provider_ref, created_by, approved_by, created_at`

// CreateRefund records a pending refund of the given lines of a paid order:
// the refunded quantities, the order's refunded total and the payment's
// refunded amount grow (CHECK constraints keep them within what was sold).
// The caller then returns the money through the provider, restocks and
// reverses the fund share, and marks the refund succeeded.
func CreateRefund(ctx context.Context, tx *sqlx.Tx, communityID, orderID string, in NewRefund) (*Refund, *Order, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		return nil, nil, apperr.Field("reason", "say why the sale is refunded")
	}
	if len(in.Reason) > 500 {
		return nil, nil, apperr.Field("reason", "the reason is too long")
	}
	if len(in.Items) == 0 {
		return nil, nil, apperr.Field("lines", "name at least one line to refund")
	}
	o, err := Lock(ctx, tx, communityID, orderID)
	if err != nil {
		return nil, nil, err
	}
	if o.Status != Paid {
		return nil, nil, apperr.Conflictf("only a paid sale can be refunded; this one is %s", o.Status)
	}
	p, err := LockPayment(ctx, tx, mustPaymentID(ctx, tx, o.ID))
	if err != nil {
		return nil, nil, err
	}
	byProduct := map[string]*Line{}
	for i := range o.Lines {
		byProduct[o.Lines[i].ProductID] = &o.Lines[i]
	}
	want := map[string]int{}
	for i, it := range in.Items {
		f := fmt.Sprintf("lines[%d]", i)
		l, ok := byProduct[it.ProductID]
		if !ok {
			return nil, nil, apperr.Field(f+".product_id", "this product is not in the sale")
		}
		if it.Qty <= 0 {
			return nil, nil, apperr.Field(f+".qty", "qty must be a positive whole number")
		}
		want[it.ProductID] += it.Qty
		if left := l.Qty - l.RefundedQty; want[it.ProductID] > left {
			return nil, nil, apperr.Field(f+".qty", "only %d of %s can still be refunded", left, l.Name)
		}
	}
	// Each line gives back its price as sold, less its share of a discount;
	// the refund that empties the order gives back exactly what is left.
	amount := money.Zero
	var lines []RefundLine
	for _, pid := range sortedKeys(want) {
		l := byProduct[pid]
		a := l.UnitPrice.Mul(int64(want[pid]))
		if o.Discount.IsPositive() && o.Subtotal.IsPositive() {
			a = money.FromDecimal(a.Decimal().Mul(o.Total.Decimal()).Div(o.Subtotal.Decimal()))
		}
		amount = amount.Add(a)
		lines = append(lines, RefundLine{OrderLineID: l.ID, ProductID: pid, Name: l.Name, Qty: want[pid], Amount: a, UnitCost: l.UnitCost})
	}
	all := true
	for _, l := range o.Lines {
		if l.Qty-l.RefundedQty != want[l.ProductID] {
			all = false
		}
	}
	if left := o.Total.Sub(o.RefundedTotal); all || amount.GreaterThan(left) {
		lines[len(lines)-1].Amount = lines[len(lines)-1].Amount.Add(left.Sub(amount))
		amount = left
	}
	if !amount.IsPositive() {
		return nil, nil, apperr.Field("lines", "nothing to give back: these lines cost nothing")
	}
	var r Refund
	if err := tx.GetContext(ctx, &r, `INSERT INTO refunds (community_id, order_id, payment_id, amount, reason, restock, status, created_by, approved_by)
		VALUES ($1,$2,$3,$4,$5,$6,'pending',$7,$8) RETURNING `+refundCols,
		communityID, o.ID, p.ID, amount, in.Reason, in.Restock, nullable(in.CreatedBy), nullable(in.ApprovedBy)); err != nil {
		return nil, nil, err
	}
	for _, l := range lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refund_lines (refund_id, order_line_id, product_id, qty, amount) VALUES ($1,$2,$3,$4,$5)`,
			r.ID, l.OrderLineID, l.ProductID, l.Qty, l.Amount); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_lines SET refunded_qty = refunded_qty + $2 WHERE id=$1`, l.OrderLineID, l.Qty); err != nil {
			return nil, nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET refunded_total = refunded_total + $2 WHERE id=$1`, o.ID, amount); err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET refunded_amount = refunded_amount + $2 WHERE id=$1`, p.ID, amount); err != nil {
		return nil, nil, err
	}
	r.Lines = lines
	o, err = Get(ctx, tx, communityID, o.ID)
	if err != nil {
		return nil, nil, err
	}
	return &r, o, nil
}

func mustPaymentID(ctx context.Context, tx *sqlx.Tx, orderID string) string {
	var id string
	_ = tx.GetContext(ctx, &id, `SELECT id FROM payments WHERE order_id=$1`, orderID)
	return id
}

// FinishRefund records the provider's answer.
func FinishRefund(ctx context.Context, tx *sqlx.Tx, refundID, status, providerRef string) error {
	_, err := tx.ExecContext(ctx, `UPDATE refunds SET status=$2, provider_ref=$3 WHERE id=$1`, refundID, status, providerRef)
	return err
}

// Refunds lists the refunds of an order with their lines.
func Refunds(ctx context.Context, q sqlx.QueryerContext, orderID string) ([]Refund, error) {
	var out []Refund
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+refundCols+` FROM refunds WHERE order_id=$1 ORDER BY created_at`, orderID); err != nil {
		return nil, err
	}
	for i := range out {
		if err := sqlx.SelectContext(ctx, q, &out[i].Lines, `SELECT rl.order_line_id, rl.product_id, ol.name, rl.qty, rl.amount, ol.unit_cost
			FROM refund_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id WHERE rl.refund_id=$1 ORDER BY ol.line_no`, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
