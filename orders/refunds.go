package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

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

// RefundLine is a quantity of one order line given back, with what each part
// of the line's money gives back: Amount = Cost + Maker + Fee + Fund + WriteOff.
type RefundLine struct {
	OrderLineID string       `db:"order_line_id" json:"-"`
	ProductID   string       `db:"product_id" json:"product_id"`
	Name        string       `db:"name" json:"name"`
	Qty         int          `db:"qty" json:"qty"`
	Amount      money.Amount `db:"amount" json:"amount"`
	UnitCost    money.Amount `db:"unit_cost" json:"-"`
	MakerName   string       `db:"maker_name" json:"-"`
	// Cost and Maker come back only for restocked units.
	Cost  money.Amount `db:"cost" json:"-"`
	Maker money.Amount `db:"maker" json:"-"`
	Fee   money.Amount `db:"fee" json:"-"`
	// Fund is taken back from the line's fund share; WriteOff is the loss
	// beyond it (goods not returned), booked to the fund deficit.
	Fund     money.Amount `db:"fund" json:"-"`
	WriteOff money.Amount `db:"write_off" json:"-"`
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
	// Each line gives back exactly the refunded units' part of its money
	// (cumulatively rounded, so that refunding every unit gives back each
	// part to the cent).
	amount := money.Zero
	var lines []RefundLine
	for _, pid := range sortedKeys(want) {
		l := byProduct[pid]
		var fundTaken money.Amount
		if err := tx.GetContext(ctx, &fundTaken, `SELECT COALESCE(sum(fund), 0) FROM refund_lines WHERE order_line_id=$1`, l.ID); err != nil {
			return nil, nil, err
		}
		rl := refundParts(l, want[pid], in.Restock, fundTaken)
		amount = amount.Add(rl.Amount)
		lines = append(lines, rl)
	}
	if left := o.Total.Sub(o.RefundedTotal); amount.GreaterThan(left) {
		return nil, nil, fmt.Errorf("orders: refund %s exceeds what is left %s of %s", amount, left, o.Number)
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO refund_lines (refund_id, order_line_id, product_id, qty, amount, cost, maker, fee, fund, write_off)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			r.ID, l.OrderLineID, l.ProductID, l.Qty, l.Amount, l.Cost, l.Maker, l.Fee, l.Fund, l.WriteOff); err != nil {
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

// refundParts works out what qty more units of line l give back. Each part
// X of the line gives back X·(r+qty)/n − X·r/n (r units refunded before, n
// sold), rounded to the cent, so every part comes back exactly once in
// total. Restocked units return their cost and maker's share; units that do
// not return leave both payable, and that loss is taken from the line's fund
// share still held (fundTaken is what earlier refunds took), the rest
// written off.
func refundParts(l *Line, qty int, restock bool, fundTaken money.Amount) RefundLine {
	r, n := int64(l.RefundedQty), int64(l.Qty)
	take := func(x money.Amount) money.Amount {
		upto := func(k int64) money.Amount {
			return money.FromDecimal(x.Decimal().Mul(decimal.NewFromInt(k)).Div(decimal.NewFromInt(n)))
		}
		return upto(r + int64(qty)).Sub(upto(r))
	}
	net, cost, maker, fee := take(l.NetAmount), take(l.CostAmount), take(l.MakerShare), take(l.FeeAmount)
	fund := net.Sub(cost).Sub(maker).Sub(fee)
	if fund.IsNegative() { // rounding on a line with (almost) no fund share
		cut := money.Min(fund.Neg(), cost)
		cost, fund = cost.Sub(cut), fund.Add(cut)
		cut = money.Min(fund.Neg(), maker)
		maker, fund = maker.Sub(cut), fund.Add(cut)
	}
	rl := RefundLine{OrderLineID: l.ID, ProductID: l.ProductID, Name: l.Name, Qty: qty, Amount: net, UnitCost: l.UnitCost,
		MakerName: l.MakerName, Fee: fee}
	wanted := fund // what the fund gives back for these units
	if restock {
		rl.Cost, rl.Maker = cost, maker
	} else {
		wanted = fund.Add(cost).Add(maker) // the goods are gone: their cost and maker's share stay owed
	}
	// The fund gives back at most what the line's fund share still holds
	// (an earlier damaged unit may have used it up); the rest is written off.
	held := l.FundAmount.Sub(fundTaken)
	if held.IsNegative() {
		held = money.Zero
	}
	rl.Fund = money.Min(wanted, held)
	rl.WriteOff = wanted.Sub(rl.Fund)
	return rl
}

func mustPaymentID(ctx context.Context, tx *sqlx.Tx, orderID string) string {
	var id string
	if err := tx.GetContext(ctx, &id, `SELECT id FROM payments WHERE order_id=$1`, orderID); err != nil {
		return ""
	}
	return id
}

// FinishRefund records the provider's answer to a pending refund. It reports
// false (and changes nothing) when the refund was no longer pending.
func FinishRefund(ctx context.Context, tx *sqlx.Tx, refundID, status, providerRef, lastError string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE refunds SET status=$2, provider_ref=$3, last_error=$4, attempts = attempts + 1,
		finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
		WHERE id=$1 AND status='pending'`, refundID, status, providerRef, lastError)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetRefund returns a refund of the community with its lines.
func GetRefund(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Refund, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("refund not found")
	}
	var r Refund
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+refundCols+` FROM refunds WHERE community_id=$1 AND id=$2`, communityID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("refund not found")
	}
	if err != nil {
		return nil, err
	}
	if err := refundLines(ctx, q, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// LockRefund locks a refund row (after its order's row: lock order first).
func LockRefund(ctx context.Context, tx *sqlx.Tx, communityID, id string) (*Refund, error) {
	var r Refund
	err := tx.GetContext(ctx, &r, `SELECT `+refundCols+` FROM refunds WHERE community_id=$1 AND id=$2 FOR UPDATE`, communityID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("refund not found")
	}
	if err != nil {
		return nil, err
	}
	return &r, refundLines(ctx, tx, &r)
}

func refundLines(ctx context.Context, q sqlx.QueryerContext, r *Refund) error {
	return sqlx.SelectContext(ctx, q, &r.Lines, `SELECT rl.order_line_id, rl.product_id, ol.name, rl.qty, rl.amount, ol.unit_cost, ol.maker_name,
		rl.cost, rl.maker, rl.fee, rl.fund, rl.write_off
		FROM refund_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id WHERE rl.refund_id=$1 ORDER BY ol.line_no`, r.ID)
}

// PendingRefunds lists refunds still waiting for their provider (the
// outbox's safety net), oldest first.
func PendingRefunds(ctx context.Context, q sqlx.QueryerContext, before time.Time, limit int) ([]Ref, error) {
	var out []Ref
	err := sqlx.SelectContext(ctx, q, &out, `SELECT community_id, id FROM refunds WHERE status='pending' AND created_at < $1
		ORDER BY created_at LIMIT $2`, before, limit)
	return out, err
}

// Refunds lists the refunds of an order with their lines.
func Refunds(ctx context.Context, q sqlx.QueryerContext, orderID string) ([]Refund, error) {
	var out []Refund
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+refundCols+` FROM refunds WHERE order_id=$1 ORDER BY created_at`, orderID); err != nil {
		return nil, err
	}
	for i := range out {
		if err := refundLines(ctx, q, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
