package pos

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// NotificationOutcome says what a provider notification did.
type NotificationOutcome struct {
	Outcome string // orders.NoteApplied, NoteNoEffect, NoteAmountMismatch
	OrderID string
}

// HandleNotification verifies and applies a provider callback, exactly once
// per notification id, and returns the status, content type and body to
// answer the provider with:
//
//   - bad signature or stale timestamp: 400, nothing changes;
//   - a repeated id: 200, no second effect;
//   - an amount that differs from the payment: 422, the payment is flagged for
//     the treasurer and stays unpaid;
//   - payment.succeeded: 200, the sale is paid (order, stock, fund) once,
//     however many notifications, replicas or retries confirm it.
func (s *Service) HandleNotification(ctx context.Context, providerName string, h http.Header, body []byte) (int, string, []byte, error) {
	prov, err := s.Providers.Get(providerName)
	if err != nil {
		return http.StatusNotFound, "application/json", nil, apperr.NotFoundf("unknown payment provider")
	}
	n, err := prov.ParseNotification(h, body, s.now())
	if err != nil {
		st, ct, b := prov.Ack(err)
		return st, ct, b, err
	}
	out, err := s.ApplyNotification(ctx, n)
	if err != nil {
		st, ct, b := prov.Ack(err)
		if apperr.Is(err, apperr.NotFound) {
			st = http.StatusNotFound
		} else if !apperr.Is(err, apperr.Invalid) {
			st = http.StatusInternalServerError
		}
		return st, ct, b, err
	}
	if out.Outcome == orders.NoteAmountMismatch {
		_, ct, b := prov.Ack(fmt.Errorf("amount mismatch"))
		return http.StatusUnprocessableEntity, ct, b, apperr.Field("data.amount", "the amount differs from the payment; it was flagged for the treasurer")
	}
	st, ct, b := prov.Ack(nil)
	return st, ct, b, nil
}

// ApplyNotification applies a verified notification in its own transaction.
func (s *Service) ApplyNotification(ctx context.Context, n payment.Notification) (NotificationOutcome, error) {
	var out NotificationOutcome
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		out = NotificationOutcome{}
		var p *orders.Payment
		var err error
		if n.PaymentID != "" {
			p, err = orders.PaymentByID(ctx, tx, n.PaymentID)
		} else {
			p, err = orders.PaymentByMerchantRef(ctx, tx, n.MerchantRef)
		}
		if err != nil {
			return err
		}
		if p.Provider != n.Provider {
			return apperr.NotFoundf("payment not found")
		}
		out.OrderID = p.OrderID
		first, err := orders.RecordNotification(ctx, tx, n, p.ID, orders.NoteNoEffect)
		if err != nil {
			return err
		}
		if !first {
			out.Outcome = orders.NoteNoEffect
			return nil
		}
		out.Outcome = orders.NoteNoEffect
		if n.Type != payment.PaymentSucceeded {
			return nil
		}
		if !n.Amount.Equal(p.Amount) {
			out.Outcome = orders.NoteAmountMismatch
			if err := orders.Flag(ctx, tx, p.ID, fmt.Sprintf("%s notified %s for a payment of %s (notification %s)",
				n.Provider, n.Amount, p.Amount, n.ID)); err != nil {
				return err
			}
			return orders.SetNotificationOutcome(ctx, tx, n.Provider, n.ID, orders.NoteAmountMismatch)
		}
		o, err := orders.Lock(ctx, tx, p.CommunityID, p.OrderID)
		if err != nil {
			return err
		}
		if p, err = orders.LockPayment(ctx, tx, p.ID); err != nil {
			return err
		}
		switch o.Status {
		case orders.Paid:
			return nil
		case orders.Expired, orders.Cancelled:
			slog.WarnContext(ctx, "payment arrived for a closed sale", "order", o.Number, "status", o.Status)
			return orders.Flag(ctx, tx, p.ID, fmt.Sprintf("paid after the sale was %s: refund the customer (%s %s)", o.Status, n.Provider, n.TxnID))
		}
		changed, err := s.confirmOrFlag(ctx, tx, o, p, n.TxnID, n.Provider)
		if err != nil {
			return err
		}
		if changed {
			out.Outcome = orders.NoteApplied
			return orders.SetNotificationOutcome(ctx, tx, n.Provider, n.ID, orders.NoteApplied)
		}
		return nil
	})
	return out, err
}

// confirmOrFlag confirms a payment; when the sale can no longer be
// completed (its stock was released after a long delay) the sale is closed as
// expired and the payment flagged for the treasurer to refund, so that the
// provider stops retrying. (A reservation released between the check and the
// commit fails the transaction; the retry then takes this path.)
func (s *Service) confirmOrFlag(ctx context.Context, tx *sqlx.Tx, o *orders.Order, p *orders.Payment, txnID, provider string) (bool, error) {
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return false, err
	}
	res, err := s.Inventory.GetReservation(ctx, tx, o.CommunityID, row.ReservationID)
	if err != nil {
		return false, err
	}
	if res.State == inventory.ResReleased || res.State == inventory.ResExpired {
		slog.WarnContext(ctx, "payment arrived after the stock was released", "order", o.Number)
		if _, err := orders.Close(ctx, tx, o.ID, orders.Expired); err != nil {
			return false, err
		}
		if err := notify(ctx, tx, o.CommunityID, o.ID, orders.Expired); err != nil {
			return false, err
		}
		return false, orders.Flag(ctx, tx, p.ID, fmt.Sprintf("paid after the sale's stock was released: refund the customer (%s %s)", provider, txnID))
	}
	return s.confirm(ctx, tx, o, p, txnID, "")
}

// PollPayment asks the provider about an awaiting sale and confirms it when
// the provider says it is paid (for providers whose callbacks may be lost).
func (s *Service) PollPayment(ctx context.Context, communityID, orderID string) (*Sale, error) {
	var sale *Sale
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		o, err := orders.Lock(ctx, tx, communityID, orderID)
		if err != nil {
			return err
		}
		if o.Status == orders.AwaitingPayment {
			p, err := orders.LockPayment(ctx, tx, mustPayment(ctx, tx, o.ID))
			if err != nil {
				return err
			}
			prov, err := s.Providers.Get(p.Provider)
			if err != nil {
				return err
			}
			if q, err := prov.Query(ctx, tx, p.MerchantRef); err == nil && q.Status == payment.StatusSucceeded && q.Amount.Equal(p.Amount) {
				if _, err := s.confirm(ctx, tx, o, p, q.TxnID, ""); err != nil {
					return err
				}
			}
		}
		sale, err = s.GetSale(ctx, tx, communityID, orderID)
		return err
	})
	return sale, err
}
