package orders

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// PaymentHeld is a payment whose money arrived but could not complete its
// sale: it is held in suspense until the treasurer refunds it or completes
// the sale.
const PaymentHeld = "held"

// Why money is held in suspense.
const (
	HoldAmountMismatch = "amount_mismatch" // the provider reports another amount than the sale's
	HoldAfterExpired   = "after_expired"   // paid after the sale expired
	HoldAfterCancelled = "after_cancelled" // paid after the sale was cancelled
	HoldStockReleased  = "stock_released"  // the sale's stock was no longer held
)

// Suspense states.
const (
	SuspenseOpen      = "open"
	SuspenseRefunding = "refunding"
	SuspenseRefunded  = "refunded"
	SuspenseCompleted = "completed"
)

// Suspense is money received that is owed back to a customer unless the
// treasurer completes its sale.
type Suspense struct {
	ID          string       `db:"id" json:"id"`
	CommunityID string       `db:"community_id" json:"-"`
	PaymentID   string       `db:"payment_id" json:"payment_id"`
	OrderID     string       `db:"order_id" json:"order_id"`
	Amount      money.Amount `db:"amount" json:"amount"`
	Reason      string       `db:"reason" json:"reason"`
	Detail      string       `db:"detail" json:"detail"`
	ProviderTxn string       `db:"provider_txn" json:"provider_txn,omitempty"`
	Status      string       `db:"status" json:"status"`
	ResolvedBy  *string      `db:"resolved_by" json:"-"`
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	ResolvedAt  *time.Time   `db:"resolved_at" json:"resolved_at,omitempty"`
	// From the order and payment, for lists.
	OrderNumber string `db:"number" json:"order_number"`
	Provider    string `db:"provider" json:"provider"`
	MerchantRef string `db:"merchant_ref" json:"merchant_ref"`
}

const suspenseCols = `s.id, s.community_id, s.payment_id, s.order_id, s.amount, s.reason, s.detail, s.provider_txn, s.status, s.resolved_by,
	s.created_at, s.resolved_at, o.number, p.provider, p.merchant_ref`

const suspenseFrom = ` FROM payment_suspense s JOIN orders o ON o.id = s.order_id JOIN payments p ON p.id = s.payment_id `

// Hold records that money arrived for a payment (amount, provider txn) but
// cannot complete its sale, in the caller's transaction: the payment is
// flagged and a suspense item is opened. With markHeld the payment becomes
// held (its sale is over); without (a wrong amount reported while the sale
// still waits for the right one) it stays pending. A payment has at most one
// item of each kind (wrong amount; money after its sale ended): a repeat of
// the same kind is the same money and reports the first item and false. The
// order and payment rows must be locked.
func Hold(ctx context.Context, tx *sqlx.Tx, p *Payment, amount money.Amount, reason, detail, txnID string, markHeld bool) (*Suspense, bool, error) {
	mismatch := reason == HoldAmountMismatch
	if prev, err := getSuspense(ctx, tx, `s.payment_id=$1 AND (s.reason = 'amount_mismatch') = $2`, p.ID, mismatch); err == nil {
		return prev, false, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, false, err
	}
	if markHeld && p.Status == PaymentSucceeded {
		return nil, false, apperr.Conflictf("the payment has already completed its sale")
	}
	if !amount.IsPositive() {
		return nil, false, apperr.Field("amount", "held money must be more than ¥0.00")
	}
	status := p.Status
	if markHeld {
		status = PaymentHeld
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET status=$4, provider_txn_id=COALESCE(provider_txn_id, $2), flagged=true,
		flag_reason = CASE WHEN flag_reason = '' THEN $3 ELSE flag_reason || '; ' || $3 END WHERE id=$1`,
		p.ID, nullable(txnID), reason, status); err != nil {
		return nil, false, err
	}
	var id string
	if err := tx.GetContext(ctx, &id, `INSERT INTO payment_suspense (community_id, payment_id, order_id, amount, reason, detail, provider_txn)
		VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`, p.CommunityID, p.ID, p.OrderID, amount, reason, detail, txnID); err != nil {
		return nil, false, err
	}
	s, err := GetSuspense(ctx, tx, p.CommunityID, id)
	return s, true, err
}

func getSuspense(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Suspense, error) {
	var s Suspense
	err := sqlx.GetContext(ctx, q, &s, `SELECT `+suspenseCols+suspenseFrom+`WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("no such held payment")
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// GetSuspense returns a suspense item of the community.
func GetSuspense(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Suspense, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("no such held payment")
	}
	return getSuspense(ctx, q, `s.community_id=$1 AND s.id=$2`, communityID, id)
}

// SuspenseOfPayment returns the latest suspense item of a payment.
func SuspenseOfPayment(ctx context.Context, q sqlx.QueryerContext, paymentID string) (*Suspense, error) {
	return getSuspense(ctx, q, `s.payment_id=$1 ORDER BY s.created_at DESC, s.id LIMIT 1`, paymentID)
}

// LockSuspense locks a suspense item (lock its order and payment first).
func LockSuspense(ctx context.Context, tx *sqlx.Tx, communityID, id string) (*Suspense, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("no such held payment")
	}
	return getSuspense(ctx, tx, `s.community_id=$1 AND s.id=$2 FOR UPDATE OF s`, communityID, id)
}

// ListSuspense lists a community's suspense items, open ones first when
// open is false, only open (and refunding) ones when open is true.
func ListSuspense(ctx context.Context, q sqlx.QueryerContext, communityID string, open bool, limit int) ([]Suspense, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out := []Suspense{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+suspenseCols+suspenseFrom+`WHERE s.community_id=$1
		AND (NOT $2 OR s.status IN ('open','refunding'))
		ORDER BY (s.status IN ('open','refunding')) DESC, s.created_at DESC LIMIT $3`, communityID, open, limit)
	return out, err
}

// SetSuspenseStatus moves a suspense item on (open → refunding → refunded,
// open → completed); it reports false when the item was not in from.
func SetSuspenseStatus(ctx context.Context, tx *sqlx.Tx, id, from, to, by string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE payment_suspense SET status=$3, resolved_by=COALESCE($4, resolved_by),
		resolved_at = CASE WHEN $3 IN ('refunded','completed') THEN now() ELSE NULL END
		WHERE id=$1 AND status=$2`, id, from, to, nullable(by))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CompleteHeld turns a closed (expired or cancelled) order whose payment is
// held into a paid one, in the caller's transaction (rows locked): the
// treasurer completes the sale from the money held in suspense.
func CompleteHeld(ctx context.Context, tx *sqlx.Tx, o *Order, p *Payment, by string, at time.Time) error {
	if p.Status != PaymentHeld {
		return apperr.Conflictf("the payment is %s, not held", p.Status)
	}
	if o.Status != Expired && o.Status != Cancelled {
		return apperr.Conflictf("the sale is %s", o.Status)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET status='succeeded', succeeded_at=$2, confirmed_by=COALESCE($3, confirmed_by) WHERE id=$1`,
		p.ID, at, nullable(by)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE orders SET status='paid', paid_at=$2, closed_at=NULL WHERE id=$1`, o.ID, at)
	return err
}

// StuckAwaiting lists a community's sales awaiting payment for longer than
// the given age (the treasurer's list; a metric counts them).
func StuckAwaiting(ctx context.Context, q sqlx.QueryerContext, communityID string, before time.Time, limit int) ([]Order, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out := []Order{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+orderCols+` FROM orders WHERE community_id=$1 AND status='awaiting_payment' AND channel = 'pos'
		AND created_at < $2 ORDER BY created_at LIMIT $3`, communityID, before, limit)
	return out, err
}

// CountStuckAwaiting counts all communities' sales awaiting payment past
// their expiry (for the metric): each is a sale whose expiry job is late.
func CountStuckAwaiting(ctx context.Context, q sqlx.QueryerContext, now time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM orders WHERE status='awaiting_payment' AND expires_at < $1`, now)
	return n, err
}
