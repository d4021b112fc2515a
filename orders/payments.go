package orders

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders/payment"
)

// Payment statuses in Shelin's books.
const (
	PaymentPending   = "pending"
	PaymentSucceeded = "succeeded"
	PaymentFailed    = "failed"
)

// Payment is the one payment of an order.
type Payment struct {
	ID             string        `db:"id" json:"id"`
	CommunityID    string        `db:"community_id" json:"-"`
	OrderID        string        `db:"order_id" json:"-"`
	Method         string        `db:"method" json:"method"`
	Provider       string        `db:"provider" json:"provider"`
	Status         string        `db:"status" json:"status"`
	Amount         money.Amount  `db:"amount" json:"amount"`
	Fee            money.Amount  `db:"fee" json:"-"`
	RefundedAmount money.Amount  `db:"refunded_amount" json:"-"`
	MerchantRef    string        `db:"merchant_ref" json:"merchant_ref"`
	QRPayload      *string       `db:"qr_payload" json:"qr_payload,omitempty"`
	ProviderTxnID  *string       `db:"provider_txn_id" json:"-"`
	Tendered       *money.Amount `db:"tendered" json:"tendered,omitempty"`
	Change         *money.Amount `db:"change" json:"change,omitempty"`
	Flagged        bool          `db:"flagged" json:"flagged,omitempty"`
	FlagReason     string        `db:"flag_reason" json:"flag_reason,omitempty"`
	ConfirmedBy    *string       `db:"confirmed_by" json:"-"`
	CreatedAt      time.Time     `db:"created_at" json:"-"`
	ExpiresAt      *time.Time    `db:"expires_at" json:"expires_at,omitempty"`
	SucceededAt    *time.Time    `db:"succeeded_at" json:"-"`
}

const paymentCols = `id, community_id, order_id, method, provider, status, amount, fee, refunded_amount, merchant_ref, qr_payload,
	provider_txn_id, tendered, change, flagged, flag_reason, confirmed_by, created_at, expires_at, succeeded_at`

// NewPayment describes the payment of an order.
type NewPayment struct {
	CommunityID string
	OrderID     string
	Provider    string // cash, static, sandbox, wechatpay, alipay
	Amount      money.Amount
	Tendered    *money.Amount // cash only
	ExpiresAt   *time.Time
}

// MerchantRef returns a fresh merchant order number (WeChat/Alipay
// out_trade_no: 6–32 of [0-9A-Za-z]).
func MerchantRef() string { return "SL" + randomHex(12) }

// CreatePayment writes a pending payment with a fresh merchant_ref.
func CreatePayment(ctx context.Context, tx *sqlx.Tx, in NewPayment) (*Payment, error) {
	method := "qr"
	if in.Provider == payment.Cash {
		method = "cash"
	}
	var tendered, change any
	if in.Tendered != nil {
		if method != "cash" {
			return nil, apperr.Field("payment.tendered", "tendered is for cash payments")
		}
		if in.Tendered.LessThan(in.Amount) {
			return nil, apperr.Field("payment.tendered", "tendered %s is less than the total %s", in.Tendered.Yuan(), in.Amount.Yuan())
		}
		tendered, change = *in.Tendered, in.Tendered.Sub(in.Amount)
	}
	var p Payment
	err := tx.GetContext(ctx, &p, `INSERT INTO payments (community_id, order_id, method, provider, status, amount, merchant_ref, tendered, change, expires_at)
		VALUES ($1,$2,$3,$4,'pending',$5,$6,$7,$8,$9) RETURNING `+paymentCols,
		in.CommunityID, in.OrderID, method, in.Provider, in.Amount, MerchantRef(), tendered, change, in.ExpiresAt)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// SetQRPayload stores what the customer's phone scans.
func SetQRPayload(ctx context.Context, tx *sqlx.Tx, paymentID, payload string) error {
	if payload == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE payments SET qr_payload=$2 WHERE id=$1`, paymentID, payload)
	return err
}

func getPayment(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Payment, error) {
	var p Payment
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+paymentCols+` FROM payments WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("payment not found")
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// PaymentOf returns the payment of an order.
func PaymentOf(ctx context.Context, q sqlx.QueryerContext, orderID string) (*Payment, error) {
	return getPayment(ctx, q, `order_id=$1`, orderID)
}

// GetPayment returns a payment of the community.
func GetPayment(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Payment, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("payment not found")
	}
	return getPayment(ctx, q, `community_id=$1 AND id=$2`, communityID, id)
}

// PaymentByID returns a payment by id alone, for provider callbacks that
// carry no community. Unknown or malformed ids are not_found.
func PaymentByID(ctx context.Context, q sqlx.QueryerContext, id string) (*Payment, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("payment not found")
	}
	return getPayment(ctx, q, `id=$1`, id)
}

// PaymentByMerchantRef finds a payment by out_trade_no.
func PaymentByMerchantRef(ctx context.Context, q sqlx.QueryerContext, ref string) (*Payment, error) {
	return getPayment(ctx, q, `merchant_ref=$1`, ref)
}

// LockPayment locks a payment row.
func LockPayment(ctx context.Context, tx *sqlx.Tx, id string) (*Payment, error) {
	return getPayment(ctx, tx, `id=$1 FOR UPDATE`, id)
}

// SucceedPayment marks a pending payment succeeded. It reports false and
// changes nothing when it already succeeded; any other state is a conflict.
func SucceedPayment(ctx context.Context, tx *sqlx.Tx, paymentID, txnID, confirmedBy string, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE payments SET status='succeeded', succeeded_at=$2, provider_txn_id=$3, confirmed_by=$4
		WHERE id=$1 AND status='pending'`, paymentID, at, nullable(txnID), nullable(confirmedBy))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var status string
	if err := tx.GetContext(ctx, &status, `SELECT status FROM payments WHERE id=$1`, paymentID); err != nil {
		return false, err
	}
	if status == PaymentSucceeded {
		return false, nil
	}
	return false, apperr.Conflictf("the payment is %s", status)
}

// Flag marks a payment for the treasurer (an amount that differs, money
// that arrived after the sale expired...).
func Flag(ctx context.Context, tx *sqlx.Tx, paymentID, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE payments SET flagged=true,
		flag_reason = CASE WHEN flag_reason = '' THEN $2 ELSE flag_reason || '; ' || $2 END WHERE id=$1`, paymentID, reason)
	return err
}

// Flagged lists the community's payments waiting for the treasurer.
func Flagged(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Payment, error) {
	var out []Payment
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+paymentCols+` FROM payments WHERE community_id=$1 AND flagged ORDER BY created_at`, communityID)
	return out, err
}

// Notification outcomes.
const (
	NoteApplied        = "applied"
	NoteNoEffect       = "no_effect"
	NoteAmountMismatch = "amount_mismatch"
	NoteUnknownPayment = "unknown_payment"
)

// RecordNotification stores a verified provider notification. It reports
// false when the same (provider, id) was recorded before: the caller must
// then have no effect. Two replicas receiving the same notification at once
// serialize on the primary key; the second sees false.
func RecordNotification(ctx context.Context, tx *sqlx.Tx, n payment.Notification, paymentID string, outcome string) (bool, error) {
	var amount any
	if n.Type != "" {
		amount = n.Amount
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO payment_notifications (provider, notification_id, payment_id, type, amount, outcome)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (provider, notification_id) DO NOTHING`,
		n.Provider, n.ID, nullable(paymentID), n.Type, amount, outcome)
	if err != nil {
		return false, err
	}
	k, _ := res.RowsAffected()
	return k == 1, nil
}

// SetNotificationOutcome records what a notification did.
func SetNotificationOutcome(ctx context.Context, tx *sqlx.Tx, provider, id, outcome string) error {
	_, err := tx.ExecContext(ctx, `UPDATE payment_notifications SET outcome=$3 WHERE provider=$1 AND notification_id=$2`, provider, id, outcome)
	return err
}
