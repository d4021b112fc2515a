package pos

// The one confirmation path. Every way a payment becomes known — a cash
// sale, a provider notification, a poll, the provider refusing to close a
// payment it already took (expiry, cancel), a volunteer confirming a static
// 收款码 — ends in settle, which has exactly two outcomes besides "already
// known":
//
//	            ┌─ order awaiting, amount right, its stock held ─▶ completed:
//	            │    payment succeeded, order paid, reservation committed
//	 evidence ──┤    (sale movements), proceeds posted — once
//	 of money   │
//	            └─ anything else (sale expired or cancelled, stock gone,
//	                 wrong amount) ─▶ held in suspense: money booked Dr
//	                 clearing/drawer, Cr customer refunds payable, payment
//	                 flagged; the sale is closed and its stock released
//	                 (except for a wrong amount: that sale still waits for
//	                 the right payment). The treasurer then refunds the held
//	                 money or completes the sale (CompleteHeld).
//
// A sale owns its stock reservation (inventory.ReserveOwned): no timer can
// release the stock of a sale that still awaits payment, so a late
// notification never finds a paid order without its goods.

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// Evidence is what a confirmation rests on: who says how much was paid.
type Evidence struct {
	Source      string // EvCash, EvNotification, EvPoll, EvClose, EvStatic
	Amount      money.Amount
	TxnID       string
	ConfirmedBy string // a volunteer (cash, static)
}

// Sources of evidence.
const (
	EvCash         = "cash"
	EvNotification = "notification"
	EvPoll         = "poll"
	EvClose        = "close" // the provider refused to close: already paid
	EvStatic       = "static"
)

// Outcome kinds.
const (
	Completed      = "completed"
	HeldInSuspense = "held"
	AlreadyKnown   = "already_known"
)

// Outcome is what settle did.
type Outcome struct {
	Kind     string
	Reason   string // for HeldInSuspense: orders.Hold*
	Suspense *orders.Suspense
}

// saleOwner marks the stall sale's reservations (inventory.ReserveOwned).
const saleOwner = "pos_sale"

// settle applies evidence of money to a sale, in the caller's transaction,
// with the order and payment rows locked (order first). See the diagram.
func (s *Service) settle(ctx context.Context, tx *sqlx.Tx, o *orders.Order, p *orders.Payment, ev Evidence) (Outcome, error) {
	switch p.Status {
	case orders.PaymentSucceeded, orders.PaymentHeld:
		return Outcome{Kind: AlreadyKnown}, nil
	}
	if !ev.Amount.Equal(p.Amount) {
		return s.hold(ctx, tx, o, p, ev, orders.HoldAmountMismatch,
			fmt.Sprintf("%s reported %s for a payment of %s", p.Provider, ev.Amount, p.Amount))
	}
	switch o.Status {
	case orders.Expired:
		return s.hold(ctx, tx, o, p, ev, orders.HoldAfterExpired, "paid after the sale expired")
	case orders.Cancelled:
		return s.hold(ctx, tx, o, p, ev, orders.HoldAfterCancelled, "paid after the sale was cancelled")
	case orders.Paid:
		return Outcome{}, fmt.Errorf("pos: order %s is paid but its payment is %s", o.Number, p.Status)
	}
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return Outcome{}, err
	}
	res, err := s.Inventory.GetReservation(ctx, tx, o.CommunityID, row.ReservationID)
	if err != nil {
		return Outcome{}, err
	}
	if res.State != inventory.ResHeld {
		return s.hold(ctx, tx, o, p, ev, orders.HoldStockReleased, "the sale's stock was no longer held ("+res.State+")")
	}
	now := s.now()
	if _, err := orders.SucceedPayment(ctx, tx, p.ID, ev.TxnID, ev.ConfirmedBy, now); err != nil {
		return Outcome{}, err
	}
	if _, err := orders.MarkPaid(ctx, tx, o.ID, now); err != nil {
		return Outcome{}, err
	}
	if err := s.Inventory.Commit(ctx, tx, o.CommunityID, row.ReservationID, o.Number); err != nil {
		return Outcome{}, err
	}
	if o.Total.IsPositive() {
		if _, err := s.Fund.PostProceeds(ctx, tx, proceedsOf(o, p, arrivalAccount(p, row.LocationID))); err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{Kind: Completed}, notify(ctx, tx, o.CommunityID, o.ID, orders.Paid)
}

// arrivalAccount is where a payment's money arrives: the stall's drawer for
// cash, the provider's clearing account otherwise.
func arrivalAccount(p *orders.Payment, locationID string) fund.AccountRef {
	if p.Method == "cash" {
		return fund.CashDrawer(locationID)
	}
	return fund.ProviderClearing(p.Provider)
}

// hold books money that cannot complete its sale to suspense and closes the
// sale if it was still awaiting payment (releasing its stock).
func (s *Service) hold(ctx context.Context, tx *sqlx.Tx, o *orders.Order, p *orders.Payment, ev Evidence, reason, detail string) (Outcome, error) {
	if !ev.Amount.IsPositive() {
		return Outcome{}, apperr.Field("amount", "a payment of %s cannot be held", ev.Amount)
	}
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return Outcome{}, err
	}
	// A wrong amount does not end a sale that still waits for the right
	// one: the money reported is held, the sale goes on.
	endSale := reason != orders.HoldAmountMismatch
	susp, first, err := orders.Hold(ctx, tx, p, ev.Amount, reason, detail, ev.TxnID, endSale)
	if err != nil {
		return Outcome{}, err
	}
	if !first {
		return Outcome{Kind: AlreadyKnown}, nil
	}
	if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: o.CommunityID, SourceKind: "suspense_hold", SourceID: susp.ID,
		SourceRef: o.Number, Debit: arrivalAccount(p, row.LocationID), Credit: fund.RefundsPayable(), Amount: ev.Amount,
		Memo: reason, At: s.now()}); err != nil {
		return Outcome{}, err
	}
	if endSale && o.Status == orders.AwaitingPayment {
		status := orders.Cancelled
		if o.ExpiresAt != nil && !s.now().Before(*o.ExpiresAt) {
			status = orders.Expired
		}
		if _, err := orders.Close(ctx, tx, o.ID, status); err != nil {
			return Outcome{}, err
		}
		if err := s.Inventory.Release(ctx, tx, o.CommunityID, row.ReservationID); err != nil {
			return Outcome{}, err
		}
		if err := notify(ctx, tx, o.CommunityID, o.ID, status); err != nil {
			return Outcome{}, err
		}
	}
	slog.WarnContext(ctx, "payment held in suspense", "order", o.Number, "reason", reason, "amount", ev.Amount.String(), "source", ev.Source)
	if s.autoRefunds(p.Provider, reason) {
		if err := s.autoRefundHeld(ctx, tx, o, susp); err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{Kind: HeldInSuspense, Reason: reason, Suspense: susp}, nil
}

// lockSale locks a sale's order and then its payment (always in this order).
func lockSale(ctx context.Context, tx *sqlx.Tx, communityID, orderID string) (*orders.Order, *orders.Payment, error) {
	o, err := orders.Lock(ctx, tx, communityID, orderID)
	if err != nil {
		return nil, nil, err
	}
	p, err := orders.PaymentOf(ctx, tx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	p, err = orders.LockPayment(ctx, tx, p.ID)
	if err != nil {
		return nil, nil, err
	}
	return o, p, nil
}

// provider returns a payment's provider.
func (s *Service) provider(p *orders.Payment) (payment.Provider, error) {
	return s.Providers.Get(p.Provider)
}
