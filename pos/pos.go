// Package pos is the stall: stalls and paired tablets, volunteers' PIN
// sign-in and second-person approvals, shifts with their cash drawer, the
// checkout use case (one transaction across orders, inventory and fund),
// payment confirmation exactly once, refunds, receipts and live sale events.
package pos

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/identity"
	"shelin/inventory"
	"shelin/orders/payment"
)

// Service is the stall's use cases over one database.
type Service struct {
	DB        *sqlx.DB
	Inventory *inventory.Store
	Fund      *fund.Ledger
	Identity  *identity.Service
	Providers *payment.Registry
	// BaseURL is the public base used in receipt and trace links.
	BaseURL string
	// QRExpiry is how long a QR sale waits for payment (default 10 minutes).
	QRExpiry time.Duration
	// Now is the clock.
	Now func() time.Time
	// AutoRefundSandbox gives sandbox money that arrived after its sale
	// ended back by itself, as WeChat Pay and Alipay money always is (see
	// autoRefunds); off, the treasurer decides.
	AutoRefundSandbox bool
	// Channels settle the payments of orders sold through another channel
	// (orders.channel, e.g. "groupbuy"): a notification for such an order is
	// handed to its channel's own confirmation path.
	Channels map[string]ChannelNotifications
	// Verifiers add their own invariants to Verify (group-buys).
	Verifiers []Verifier
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) qrExpiry() time.Duration {
	if s.QRExpiry > 0 {
		return s.QRExpiry
	}
	return 10 * time.Minute
}

// reservationGrace keeps a QR sale's stock held a little past the sale's own
// expiry, so that the sale's expiry job (which closes the provider payment
// first) is what releases it, and a payment arriving in between can still
// commit it.
const reservationGrace = 3 * time.Minute

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
