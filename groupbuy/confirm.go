package groupbuy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/jobs"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
)

// locked is a join with its rows locked in the one order every writer
// uses: campaign, order, payment, join.
type locked struct {
	c *Campaign
	o *orders.Order
	p *orders.Payment
	j *Join
}

func (s *Service) lockJoin(ctx context.Context, tx *sqlx.Tx, joinID string) (*locked, error) {
	j0, err := getJoin(ctx, tx, `id=$1`, joinID)
	if err != nil {
		return nil, err
	}
	c, err := shareCampaign(ctx, tx, j0.CampaignID)
	if err != nil {
		return nil, err
	}
	return s.lockRest(ctx, tx, c, j0)
}

// lockRest locks a join's order, payment and row after its campaign.
func (s *Service) lockRest(ctx context.Context, tx *sqlx.Tx, c *Campaign, j0 *Join) (*locked, error) {
	o, err := orders.Lock(ctx, tx, j0.CommunityID, j0.OrderID)
	if err != nil {
		return nil, err
	}
	p, err := orders.LockPayment(ctx, tx, j0.PaymentID)
	if err != nil {
		return nil, err
	}
	j, err := getJoin(ctx, tx, `id=$1 FOR UPDATE`, j0.ID)
	if err != nil {
		return nil, err
	}
	return &locked{c: c, o: o, p: p, j: j}, nil
}

// evidence is what a confirmation rests on.
type evidence struct {
	Source string // notification, poll, close
	Amount money.Amount
	TxnID  string
}

// ApplyNotification applies a verified provider notification about a
// join's payment in its own transaction, exactly once per notification id
// (pos routes notifications of group-buy orders here). It returns the
// orders.Note* outcome.
func (s *Service) ApplyNotification(ctx context.Context, n payment.Notification, p0 *orders.Payment) (string, error) {
	j0, err := s.JoinOfOrder(ctx, s.DB, p0.OrderID)
	if err != nil {
		return "", err
	}
	var outcome string
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		outcome = orders.NoteNoEffect
		l, err := s.lockJoin(ctx, tx, j0.ID)
		if err != nil {
			return err
		}
		first, err := orders.RecordNotification(ctx, tx, n, l.p.ID, orders.NoteNoEffect)
		if err != nil || !first {
			return err
		}
		switch n.Type {
		case payment.PaymentSucceeded:
			if outcome, err = s.confirm(ctx, tx, l, evidence{Source: "notification", Amount: n.Amount, TxnID: n.TxnID}); err != nil {
				return err
			}
		case payment.RefundSucceeded, payment.RefundFailed:
			status := orders.PaymentSucceeded
			if n.Type == payment.RefundFailed {
				status = orders.PaymentFailed
			}
			changed, err := s.finishRefund(ctx, tx, l, n.RefundID, status, n.TxnID, "notified "+n.Type)
			if err != nil {
				return err
			}
			if changed {
				outcome = orders.NoteApplied
			}
		}
		return orders.SetNotificationOutcome(ctx, tx, n.Provider, n.ID, outcome)
	})
	return outcome, err
}

// confirm is the one confirmation path of a join's payment, with its rows
// locked:
//
//	payment already succeeded or held ──────────────────▶ no effect
//	amount differs ─────────────────────────────────────▶ held (amount_mismatch), the join still waits
//	join pending, campaign open ────────────────────────▶ paid: money into escrow
//	anything else (join expired, campaign settled) ─────▶ held in suspense and refunded automatically
func (s *Service) confirm(ctx context.Context, tx *sqlx.Tx, l *locked, ev evidence) (string, error) {
	c, o, p, j := l.c, l.o, l.p, l.j
	switch p.Status {
	case orders.PaymentSucceeded, orders.PaymentHeld:
		return orders.NoteNoEffect, nil
	}
	if !ev.Amount.Equal(p.Amount) {
		if _, err := s.hold(ctx, tx, l, ev, orders.HoldAmountMismatch,
			fmt.Sprintf("%s reported %s for a payment of %s", p.Provider, ev.Amount, p.Amount)); err != nil {
			return "", err
		}
		return orders.NoteAmountMismatch, nil
	}
	if j.Status == JoinPending && c.Status == Open && o.Status == orders.AwaitingPayment {
		now := s.now()
		if _, err := orders.SucceedPayment(ctx, tx, p.ID, ev.TxnID, "", now); err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='paid', paid_at=$2 WHERE id=$1`, j.ID, now); err != nil {
			return "", err
		}
		if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: c.CommunityID, SourceKind: "groupbuy_join_paid", SourceID: j.ID,
			SourceRef: o.Number, Debit: arrival(p), Credit: fund.GroupBuyEscrow(), Amount: p.Amount,
			Memo: "group-buy join paid: " + c.Title, At: now}); err != nil {
			return "", err
		}
		return orders.NoteApplied, nil
	}
	reason := orders.HoldAfterExpired
	if o.Status == orders.Cancelled {
		reason = orders.HoldAfterCancelled
	}
	if _, err := s.hold(ctx, tx, l, ev, reason, "paid after the join ended (join "+j.Status+", group-buy "+c.Status+")"); err != nil {
		return "", err
	}
	return orders.NoteApplied, nil
}

// hold books money that cannot complete its join to suspense, as a stall
// sale would (payment flagged, Dr clearing / Cr customer refunds payable).
// Unless the amount was wrong (the join then still waits for the right
// payment), the join ends and the money is refunded at once through the
// outbox.
func (s *Service) hold(ctx context.Context, tx *sqlx.Tx, l *locked, ev evidence, reason, detail string) (*orders.Suspense, error) {
	c, o, p, j := l.c, l.o, l.p, l.j
	if !ev.Amount.IsPositive() {
		return nil, apperr.Field("amount", "a payment of %s cannot be held", ev.Amount)
	}
	endJoin := reason != orders.HoldAmountMismatch
	susp, first, err := orders.Hold(ctx, tx, p, ev.Amount, reason, detail, ev.TxnID, endJoin)
	if err != nil || !first {
		return susp, err
	}
	now := s.now()
	if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: c.CommunityID, SourceKind: "suspense_hold", SourceID: susp.ID,
		SourceRef: o.Number, Debit: arrival(p), Credit: fund.RefundsPayable(), Amount: ev.Amount,
		Memo: reason, At: now}); err != nil {
		return nil, err
	}
	slog.WarnContext(ctx, "group-buy payment held in suspense", "order", o.Number, "reason", reason, "amount", ev.Amount.String())
	if !endJoin {
		return susp, nil
	}
	if j.Status == JoinPending {
		if err := s.endPending(ctx, tx, l, orders.Expired); err != nil {
			return nil, err
		}
	} else if o.Status == orders.AwaitingPayment {
		if _, err := orders.Close(ctx, tx, o.ID, orders.Expired); err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='held' WHERE id=$1`, j.ID); err != nil {
		return nil, err
	}
	if _, err := orders.SetSuspenseStatus(ctx, tx, susp.ID, orders.SuspenseOpen, orders.SuspenseRefunding, ""); err != nil {
		return nil, err
	}
	if err := s.queueRefund(ctx, tx, c.CommunityID, j.ID, "held", susp.ID, ev.Amount); err != nil {
		return nil, err
	}
	return susp, nil
}

// endPending ends a pending join (expired, or its campaign settled): the
// order is closed, its quantity freed and its stock released.
func (s *Service) endPending(ctx context.Context, tx *sqlx.Tx, l *locked, status string) error {
	if _, err := orders.Close(ctx, tx, l.o.ID, status); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='expired' WHERE id=$1`, l.j.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_slots SET join_id = NULL WHERE campaign_id=$1 AND join_id=$2`, l.c.ID, l.j.ID); err != nil {
		return err
	}
	l.j.Status = JoinExpired
	if l.j.ReservationID != nil {
		if err := s.Inventory.Release(ctx, tx, l.c.CommunityID, *l.j.ReservationID); err != nil {
			return err
		}
	}
	return nil
}

// queueRefund writes a refund into the outbox with its job (step A).
func (s *Service) queueRefund(ctx context.Context, tx *sqlx.Tx, communityID, joinID, kind, suspenseID string, amount money.Amount) error {
	var id string
	if err := tx.GetContext(ctx, &id, `INSERT INTO groupbuy_refunds (community_id, join_id, kind, suspense_id, amount)
		VALUES ($1,$2,$3,$4,$5) RETURNING id`, communityID, joinID, kind, nullable(suspenseID), amount); err != nil {
		return err
	}
	_, err := jobs.Insert(ctx, tx, SubmitRefundArgs{CommunityID: communityID, RefundID: id}, &jobs.InsertOpts{MaxAttempts: 25})
	return err
}

// arrival is where a join's money is: the provider's clearing account, or,
// for a proxy join paid in cash to the 邻长, residents' collected cash
// (contributions:cash) until the 邻长 hands it to the treasurer (Dr bank /
// Cr contributions:cash, as for other collected cash).
func arrival(p *orders.Payment) fund.AccountRef {
	if p.Provider == payment.Cash {
		return fund.Contributions("cash")
	}
	return fund.ProviderClearing(p.Provider)
}
