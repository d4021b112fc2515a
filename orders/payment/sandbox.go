package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// SignatureHeader carries the sandbox's signature of a notification.
const SignatureHeader = "Shelin-Signature"

// SignatureTolerance is how far a notification's timestamp may be from now.
const SignatureTolerance = 300 * time.Second

// WebhookPath is where the sandbox delivers its notifications.
const WebhookPath = "/api/v1/webhooks/sandbox"

// SandboxProvider is a simulated wallet that behaves like a real provider:
// the payload is a link to its own pay page, paying there queues a signed
// notification that is delivered to the webhook with retries, and it keeps
// its own books (sandbox_payments) that Query and Refund read.
type SandboxProvider struct {
	// BaseURL is the public base of this service; payloads are BaseURL/pay/{token}.
	BaseURL string
	// WebhookURL is where notifications go (default BaseURL + WebhookPath).
	WebhookURL string
	Secret     []byte
	// DB holds the wallet's own books (sandbox_payments, sandbox_refunds);
	// Query, Close and Refund use it in transactions of their own, as a real
	// provider's servers would.
	DB *sqlx.DB
	// Enqueue inserts a durable delivery job for body in tx (see DeliverArgs).
	Enqueue func(ctx context.Context, tx *sqlx.Tx, body []byte) error
	Client  *http.Client
	// Now is the clock (tests move it).
	Now func() time.Time
}

func (s *SandboxProvider) Name() string   { return Sandbox }
func (s *SandboxProvider) Method() string { return "qr" }

func (s *SandboxProvider) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Token returns a fresh unguessable token (128 bits, base64url).
func Token() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create opens a wallet payment and returns the pay-page link as payload.
func (s *SandboxProvider) Create(ctx context.Context, tx *sqlx.Tx, req CreateRequest) (Created, error) {
	token := Token()
	var exp any
	if !req.ExpiresAt.IsZero() {
		exp = req.ExpiresAt
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sandbox_payments (token, payment_id, merchant_ref, amount, description, status, expires_at)
		VALUES ($1,$2,$3,$4,$5,'open',$6)`, token, req.PaymentID, req.MerchantRef, req.Amount, req.Description, exp)
	if err != nil {
		return Created{}, err
	}
	return Created{QRPayload: strings.TrimRight(s.BaseURL, "/") + "/pay/" + token, ProviderRef: token}, nil
}

// SandboxPayment is the wallet's view of one payment (for the pay page).
type SandboxPayment struct {
	Token       string       `db:"token"`
	PaymentID   string       `db:"payment_id"`
	MerchantRef string       `db:"merchant_ref"`
	Amount      money.Amount `db:"amount"`
	Refunded    money.Amount `db:"refunded"`
	Description string       `db:"description"`
	Status      string       `db:"status"`
	TxnID       *string      `db:"txn_id"`
	ExpiresAt   *time.Time   `db:"expires_at"`
	PaidAt      *time.Time   `db:"paid_at"`
}

const sandboxCols = `token, payment_id, merchant_ref, amount, refunded, description, status, txn_id, expires_at, paid_at`

// Lookup returns the wallet payment behind a pay-page token.
func (s *SandboxProvider) Lookup(ctx context.Context, q sqlx.QueryerContext, token string) (*SandboxPayment, error) {
	var p SandboxPayment
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+sandboxCols+` FROM sandbox_payments WHERE token=$1`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("no such sandbox payment")
	}
	return &p, err
}

// Pay settles a wallet payment as the customer would by tapping "pay": the
// wallet records it and queues the signed payment.succeeded notification
// for durable delivery, in one transaction. Paying twice has no second effect.
func (s *SandboxProvider) Pay(ctx context.Context, d *sqlx.DB, token string) (*SandboxPayment, error) {
	var out *SandboxPayment
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var p SandboxPayment
		err := tx.GetContext(ctx, &p, `SELECT `+sandboxCols+` FROM sandbox_payments WHERE token=$1 FOR UPDATE`, token)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFoundf("no such sandbox payment")
		}
		if err != nil {
			return err
		}
		switch {
		case p.Status == "paid":
			out = &p
			return nil
		case p.Status == "closed" || (p.ExpiresAt != nil && s.now().After(*p.ExpiresAt)):
			return apperr.Conflictf("this payment has expired or was closed; ask the stall for a new code")
		}
		txn := "sbx_" + Token()
		now := s.now()
		if err := tx.GetContext(ctx, &p, `UPDATE sandbox_payments SET status='paid', txn_id=$2, paid_at=$3 WHERE token=$1 RETURNING `+sandboxCols,
			token, txn, now); err != nil {
			return err
		}
		body := NotificationBody("evt_"+Token(), PaymentSucceeded, p.PaymentID, p.Amount, txn, now)
		if s.Enqueue == nil {
			return errors.New("sandbox: no delivery queue configured")
		}
		if err := s.Enqueue(ctx, tx, body); err != nil {
			return err
		}
		out = &p
		return nil
	})
	return out, err
}

// Query reads the wallet's books.
func (s *SandboxProvider) Query(ctx context.Context, merchantRef string) (QueryResult, error) {
	var p SandboxPayment
	err := sqlx.GetContext(ctx, s.DB, &p, `SELECT `+sandboxCols+` FROM sandbox_payments WHERE merchant_ref=$1`, merchantRef)
	if errors.Is(err, sql.ErrNoRows) {
		return QueryResult{}, apperr.NotFoundf("the sandbox knows no payment %s", merchantRef)
	}
	if err != nil {
		return QueryResult{}, err
	}
	r := QueryResult{Amount: p.Amount}
	switch p.Status {
	case "paid":
		r.Status, r.TxnID, r.PaidAt = StatusSucceeded, *p.TxnID, *p.PaidAt
	case "closed":
		r.Status = StatusClosed
	default:
		r.Status = StatusPending
	}
	return r, nil
}

// Close stops an open wallet payment; a paid one is a conflict.
func (s *SandboxProvider) Close(ctx context.Context, merchantRef string) error {
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var status string
		err := tx.GetContext(ctx, &status, `SELECT status FROM sandbox_payments WHERE merchant_ref=$1 FOR UPDATE`, merchantRef)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if status == "paid" {
			return apperr.Conflictf("the customer has already paid %s", merchantRef)
		}
		_, err = tx.ExecContext(ctx, `UPDATE sandbox_payments SET status='closed' WHERE merchant_ref=$1 AND status='open'`, merchantRef)
		return err
	})
}

// Refund gives money back at once (the sandbox never fails a refund it can
// honour), once per refund id: asking again answers the first result.
func (s *SandboxProvider) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	out := RefundResult{Status: StatusSucceeded, ProviderRef: "sbr_" + r.RefundID}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sandbox_refunds (refund_id, merchant_ref, amount) VALUES ($1,$2,$3)
			ON CONFLICT (refund_id) DO NOTHING`, r.RefundID, r.MerchantRef, r.Amount)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // refunded before: same answer, no second refund
		}
		res, err = tx.ExecContext(ctx, `UPDATE sandbox_payments SET refunded = refunded + $2
			WHERE merchant_ref=$1 AND status='paid' AND refunded + $2 <= amount`, r.MerchantRef, r.Amount)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.Conflictf("the sandbox cannot refund %s of %s", r.Amount, r.MerchantRef)
		}
		return nil
	})
	if err != nil {
		return RefundResult{}, err
	}
	return out, nil
}

type notificationJSON struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Created notifiedTime `json:"created"`
	Data    struct {
		PaymentID     string       `json:"payment_id"`
		Amount        money.Amount `json:"amount"`
		ProviderTxnID string       `json:"provider_txn_id"`
		RefundID      string       `json:"refund_id,omitempty"` // refund notifications: out_refund_no
	} `json:"data"`
}

// notifiedTime is a notification's "created": written as RFC 3339, read as
// RFC 3339 or as Unix seconds (the unit of the signature's t=).
type notifiedTime struct{ time.Time }

func (t notifiedTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

func (t *notifiedTime) UnmarshalJSON(b []byte) error {
	var sec int64
	if json.Unmarshal(b, &sec) == nil {
		t.Time = time.Unix(sec, 0)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339, s)
	t.Time = v
	return err
}

// NotificationBody is the JSON body of a sandbox notification (API.md).
func NotificationBody(id, typ, paymentID string, amount money.Amount, txnID string, created time.Time) []byte {
	var n notificationJSON
	n.ID, n.Type, n.Created = id, typ, notifiedTime{created}
	n.Data.PaymentID, n.Data.Amount, n.Data.ProviderTxnID = paymentID, amount, txnID
	b, _ := json.Marshal(n)
	return b
}

// Sign returns the Shelin-Signature header value for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a Shelin-Signature header against body at time now.
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return apperr.New(apperr.Invalid, "missing or malformed %s header", SignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "malformed timestamp in %s", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return apperr.New(apperr.Invalid, "notification timestamp is more than %d s away from now", int(SignatureTolerance.Seconds()))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return apperr.New(apperr.Invalid, "notification signature does not match")
}

// ParseNotification verifies the signature and freshness, then decodes.
func (s *SandboxProvider) ParseNotification(h http.Header, body []byte, now time.Time) (Notification, error) {
	if len(s.Secret) == 0 {
		return Notification{}, errors.New("sandbox: no secret configured")
	}
	if err := Verify(s.Secret, h.Get(SignatureHeader), body, now); err != nil {
		return Notification{}, err
	}
	var n notificationJSON
	if err := json.Unmarshal(body, &n); err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "notification body is not valid JSON: %v", err)
	}
	if n.ID == "" || n.Data.PaymentID == "" {
		return Notification{}, apperr.New(apperr.Invalid, "notification needs an id and data.payment_id")
	}
	switch n.Type {
	case PaymentSucceeded, PaymentFailed:
	case RefundSucceeded, RefundFailed:
		if n.Data.RefundID == "" {
			return Notification{}, apperr.New(apperr.Invalid, "a refund notification needs data.refund_id")
		}
	default:
		return Notification{}, apperr.New(apperr.Invalid, "unknown notification type %q", n.Type)
	}
	created := n.Created.Time
	return Notification{Provider: Sandbox, ID: n.ID, Type: n.Type, PaymentID: n.Data.PaymentID,
		Amount: n.Data.Amount, TxnID: n.Data.ProviderTxnID, RefundID: n.Data.RefundID, Created: created}, nil
}

// Ack answers the sandbox with a small JSON body.
func (s *SandboxProvider) Ack(err error) (int, string, []byte) {
	if err == nil {
		return http.StatusOK, "application/json", []byte(`{"received":true}`)
	}
	return http.StatusBadRequest, "application/json", []byte(`{"received":false}`)
}

// Deliver posts a notification body, freshly signed, to the webhook. It is
// the body of the durable delivery job: any error makes the queue retry.
func (s *SandboxProvider) Deliver(ctx context.Context, body []byte) error {
	url := s.WebhookURL
	if url == "" {
		url = strings.TrimRight(s.BaseURL, "/") + WebhookPath
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(s.Secret, s.now(), body))
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox: deliver notification: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return &DeliveryError{Status: resp.StatusCode, Body: string(msg)}
	}
	return nil
}

// DeliveryError is a non-2xx answer from the webhook. A 4xx other than 429
// will not get better by retrying (Permanent reports it).
type DeliveryError struct {
	Status int
	Body   string
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("sandbox: webhook answered %d: %s", e.Status, e.Body)
}

// Permanent reports whether retrying cannot help.
func (e *DeliveryError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}
