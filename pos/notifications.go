package pos

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
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

// ChannelNotifications applies verified notifications about the payments of
// another channel's orders (group-buy joins) through that channel's own
// confirmation path, exactly once per notification id, in its own
// transaction with rows locked in its own stable order. It returns an
// orders.Note* outcome.
type ChannelNotifications interface {
	ApplyNotification(ctx context.Context, n payment.Notification, p *orders.Payment) (string, error)
}

// ApplyNotification applies a verified notification in its own transaction,
// through the one confirmation path. Rows are locked in the one order every
// writer uses — order, then payment — before the notification is recorded
// (its foreign key would otherwise take a share lock on the payment first, and
// several notifications for one payment would deadlock each other).
func (s *Service) ApplyNotification(ctx context.Context, n payment.Notification) (NotificationOutcome, error) {
	var p0 *orders.Payment
	var err error
	if n.PaymentID != "" {
		p0, err = orders.PaymentByID(ctx, s.DB, n.PaymentID)
	} else {
		p0, err = orders.PaymentByMerchantRef(ctx, s.DB, n.MerchantRef)
	}
	if err != nil {
		return NotificationOutcome{}, err
	}
	if p0.Provider != n.Provider {
		return NotificationOutcome{}, apperr.NotFoundf("payment not found")
	}
	if len(s.Channels) > 0 {
		var channel string
		if err := s.DB.GetContext(ctx, &channel, `SELECT channel FROM orders WHERE id=$1`, p0.OrderID); err != nil {
			return NotificationOutcome{}, err
		}
		if h, ok := s.Channels[channel]; ok {
			outcome, err := h.ApplyNotification(ctx, n, p0)
			return NotificationOutcome{Outcome: outcome, OrderID: p0.OrderID}, err
		}
	}
	if prov, err := s.Providers.Get(n.Provider); err == nil {
		var apply bool
		if n, apply = s.freshRefundNotice(ctx, prov, n); !apply {
			return NotificationOutcome{OrderID: p0.OrderID, Outcome: orders.NoteNoEffect}, nil
		}
	}
	var out NotificationOutcome
	if n.Type == payment.PaymentSucceeded && (p0.Status == orders.PaymentSucceeded || p0.Status == orders.PaymentHeld) {
		// Already confirmed (committed): a further notification for the
		// payment, repeated or with another id, is only recorded. No row
		// lock is needed (settle would answer "already known"), so the
		// many notifications a provider sends for one payment do not queue
		// behind each other.
		err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			_, err := orders.RecordNotification(ctx, tx, n, p0.ID, orders.NoteNoEffect)
			return err
		})
		return NotificationOutcome{OrderID: p0.OrderID, Outcome: orders.NoteNoEffect}, err
	}
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		out = NotificationOutcome{OrderID: p0.OrderID, Outcome: orders.NoteNoEffect}
		o, p, err := lockSale(ctx, tx, p0.CommunityID, p0.OrderID)
		if err != nil {
			return err
		}
		first, err := orders.RecordNotification(ctx, tx, n, p.ID, orders.NoteNoEffect)
		if err != nil || !first {
			return err
		}
		switch n.Type {
		case payment.PaymentSucceeded:
			res, err := s.settle(ctx, tx, o, p, Evidence{Source: EvNotification, Amount: n.Amount, TxnID: n.TxnID})
			if err != nil {
				return err
			}
			switch {
			case res.Kind == Completed:
				out.Outcome = orders.NoteApplied
			case res.Kind == HeldInSuspense && res.Reason == orders.HoldAmountMismatch:
				out.Outcome = orders.NoteAmountMismatch
			case res.Kind == HeldInSuspense:
				out.Outcome = orders.NoteApplied
				slog.WarnContext(ctx, "payment arrived for a sale that can no longer take it: held in suspense",
					"order", o.Number, "status", o.Status, "reason", res.Reason)
			}
		case payment.RefundSucceeded, payment.RefundFailed:
			changed, err := s.applyRefundNotice(ctx, tx, o, p, n)
			if err != nil {
				return err
			}
			if changed {
				out.Outcome = orders.NoteApplied
			}
		}
		return orders.SetNotificationOutcome(ctx, tx, n.Provider, n.ID, out.Outcome)
	})
	return out, err
}

// PollPayment asks the provider about a sale awaiting payment (outside any
// transaction) and, when the provider says it is paid, settles it.
func (s *Service) PollPayment(ctx context.Context, communityID, orderID string) (*Sale, error) {
	o, err := orders.Get(ctx, s.DB, communityID, orderID)
	if err != nil {
		return nil, err
	}
	if o.Status == orders.AwaitingPayment {
		p, err := orders.PaymentOf(ctx, s.DB, o.ID)
		if err != nil {
			return nil, err
		}
		prov, err := s.provider(p)
		if err != nil {
			return nil, err
		}
		q, err := prov.Query(ctx, p.MerchantRef)
		if err != nil {
			return nil, fmt.Errorf("pos: query %s at %s: %w", p.MerchantRef, p.Provider, err)
		}
		if q.Status == payment.StatusSucceeded {
			if err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
				o, p, err := lockSale(ctx, tx, communityID, orderID)
				if err != nil {
					return err
				}
				_, err = s.settle(ctx, tx, o, p, Evidence{Source: EvPoll, Amount: q.Amount, TxnID: q.TxnID})
				return err
			}); err != nil {
				return nil, err
			}
		}
	}
	return s.GetSale(ctx, s.DB, communityID, orderID)
}
