// Package payment is how Shelin takes money: one Provider interface that cash,
// the community's static 收款码, the sandbox wallet and (later) WeChat Pay v3
// and Alipay implement, so checkout never changes when a provider is added.
//
// A provider creates a payment the customer can settle (a QR payload), can be
// queried and closed, refunds, and turns a callback from its servers into a
// verified Notification plus the acknowledgement that provider expects.
// Create runs in the checkout's transaction (local providers write their
// state there). Query, Close and Refund are side effects at the provider and
// are never called inside a database transaction: the caller records its
// intent with a stable id first (merchant_ref = out_trade_no, the refund id =
// out_refund_no), calls the provider idempotently on that id, then books the
// answer in a second transaction (an outbox; see pos).
package payment

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Provider names as they appear in the API and the payments table.
const (
	Cash      = "cash"
	Static    = "static"
	Sandbox   = "sandbox"
	WeChatPay = "wechatpay"
	Alipay    = "alipay"
)

// Payment statuses as providers report them.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusClosed    = "closed"
)

// Notification types (API.md "The sandbox provider").
const (
	PaymentSucceeded = "payment.succeeded"
	PaymentFailed    = "payment.failed"
	RefundSucceeded  = "refund.succeeded"
	RefundFailed     = "refund.failed"
)

// CreateRequest asks a provider for a payment the customer can settle.
type CreateRequest struct {
	CommunityID string
	PaymentID   string // Shelin's payment id
	MerchantRef string // out_trade_no
	Amount      money.Amount
	Description string // shown in the wallet, e.g. "牡丹园摊位 MD-1130-0042"
	ExpiresAt   time.Time
}

// Created is what the customer needs to pay.
type Created struct {
	// QRPayload is the text the customer's phone scans; empty for cash and for
	// the static 收款码, whose image the tablet shows instead.
	QRPayload   string
	ProviderRef string
}

// QueryResult is the provider's view of a payment.
type QueryResult struct {
	Status string // StatusPending, StatusSucceeded, StatusFailed, StatusClosed
	Amount money.Amount
	TxnID  string
	PaidAt time.Time
}

// RefundRequest returns part or all of a payment.
type RefundRequest struct {
	PaymentID   string
	MerchantRef string
	RefundID    string // out_refund_no: stable, so a retry cannot refund twice
	Amount      money.Amount
	Total       money.Amount
	Reason      string
}

// RefundResult says whether the money is on its way back.
type RefundResult struct {
	Status      string // StatusSucceeded, StatusPending or StatusFailed
	ProviderRef string
}

// Notification is a verified callback from a provider.
type Notification struct {
	Provider    string
	ID          string // the provider's notification id, unique per provider
	Type        string // PaymentSucceeded, PaymentFailed, RefundSucceeded
	PaymentID   string // Shelin's payment id, when the provider echoes it
	MerchantRef string // out_trade_no, when the provider reports that instead
	RefundID    string // refund notifications: Shelin's refund id (out_refund_no)
	Amount      money.Amount
	TxnID       string
	Created     time.Time
}

// Provider is one way of taking money.
type Provider interface {
	Name() string
	// Method is "cash" or "qr".
	Method() string
	Create(ctx context.Context, tx *sqlx.Tx, req CreateRequest) (Created, error)
	// Query asks the provider about a payment (outside any transaction).
	Query(ctx context.Context, merchantRef string) (QueryResult, error)
	// Close stops a pending payment from being paid (outside any
	// transaction). Closing a payment the customer already paid is a
	// conflict; the caller then queries it and confirms it instead.
	Close(ctx context.Context, merchantRef string) error
	// Refund returns money (outside any transaction), idempotently on
	// req.RefundID: asking again for the same refund id refunds once.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// ParseNotification verifies a callback (signature, freshness) and
	// decodes it. A callback that fails verification is an invalid error and
	// must change nothing.
	ParseNotification(h http.Header, body []byte, now time.Time) (Notification, error)
	// Ack is the answer the provider expects for a handled callback (err nil)
	// or a failed one.
	Ack(err error) (status int, contentType string, body []byte)
}

// Registry holds the providers a process offers.
type Registry struct{ m map[string]Provider }

// NewRegistry builds a registry of the given providers.
func NewRegistry(ps ...Provider) *Registry {
	r := &Registry{m: map[string]Provider{}}
	for _, p := range ps {
		r.m[p.Name()] = p
	}
	return r
}

// Get returns the named provider or an invalid error naming the field.
func (r *Registry) Get(name string) (Provider, error) {
	if p, ok := r.m[name]; ok {
		return p, nil
	}
	return nil, apperr.Field("payment.provider", "payment provider %q is not available here", name)
}

// Names lists the registered providers.
func (r *Registry) Names() []string {
	var out []string
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// noNotifications is embedded by providers that never call back.
type noNotifications struct{}

func (noNotifications) ParseNotification(http.Header, []byte, time.Time) (Notification, error) {
	return Notification{}, apperr.New(apperr.Invalid, "this provider sends no notifications")
}

func (noNotifications) Ack(err error) (int, string, []byte) {
	if err != nil {
		return http.StatusBadRequest, "text/plain; charset=utf-8", []byte("rejected")
	}
	return http.StatusOK, "text/plain; charset=utf-8", []byte("ok")
}

// CashProvider is money in the stall's drawer: paid at once, refunded from
// the drawer.
type CashProvider struct{ noNotifications }

func (CashProvider) Name() string   { return Cash }
func (CashProvider) Method() string { return "cash" }
func (CashProvider) Create(context.Context, *sqlx.Tx, CreateRequest) (Created, error) {
	return Created{}, nil
}
func (CashProvider) Query(context.Context, string) (QueryResult, error) {
	return QueryResult{}, apperr.New(apperr.Invalid, "cash payments cannot be queried")
}
func (CashProvider) Close(context.Context, string) error { return nil }
func (CashProvider) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	return RefundResult{Status: StatusSucceeded, ProviderRef: "drawer"}, nil
}
