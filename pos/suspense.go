package pos

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/jobs"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// The treasurer's two actions on money held in suspense (see confirm.go):
// refund it to the customer, or complete the sale when its stock allows.

// lockOpenHeld locks a suspense item's order, payment and item (in that
// order, like every writer) and checks the item is still open.
func lockOpenHeld(ctx context.Context, tx *sqlx.Tx, communityID, suspenseID string) (*orders.Order, *orders.Payment, *orders.Suspense, error) {
	susp, err := orders.GetSuspense(ctx, tx, communityID, suspenseID)
	if err != nil {
		return nil, nil, nil, err
	}
	o, p, err := lockSale(ctx, tx, communityID, susp.OrderID)
	if err != nil {
		return nil, nil, nil, err
	}
	if susp, err = orders.LockSuspense(ctx, tx, communityID, suspenseID); err != nil {
		return nil, nil, nil, err
	}
	if susp.Status != orders.SuspenseOpen {
		return nil, nil, nil, apperr.Conflictf("this held payment is already %s", susp.Status).Say("err.susp.done", "@susp.status."+susp.Status)
	}
	return o, p, susp, nil
}

// RefundHeld starts giving held money back (step A of the outbox): the item
// becomes refunding and a durable job asks the provider, idempotently on
// the suspense id (the out_refund_no). A static 收款码 payment is handed
// back by hand and is refunded at once.
func (s *Service) RefundHeld(ctx context.Context, tx *sqlx.Tx, communityID, suspenseID, by string) (*orders.Suspense, error) {
	o, p, susp, err := lockOpenHeld(ctx, tx, communityID, suspenseID)
	if err != nil {
		return nil, err
	}
	if _, err := orders.SetSuspenseStatus(ctx, tx, susp.ID, orders.SuspenseOpen, orders.SuspenseRefunding, by); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO suspense_refunds (suspense_id, community_id, status) VALUES ($1,$2,'pending')`,
		susp.ID, communityID); err != nil {
		return nil, err
	}
	if refundsAtOnce(p.Provider) {
		if err := s.finishHeldRefund(ctx, tx, o, p, susp, orders.PaymentSucceeded, "manual", ""); err != nil {
			return nil, err
		}
	} else if _, err := jobs.Insert(ctx, tx, SubmitSuspenseRefundArgs{CommunityID: communityID, SuspenseID: susp.ID},
		&jobs.InsertOpts{MaxAttempts: 25}); err != nil {
		return nil, err
	}
	return orders.GetSuspense(ctx, tx, communityID, susp.ID)
}

// SubmitSuspenseRefund calls the provider for a refunding suspense item
// (outside any transaction) and books its answer.
func (s *Service) SubmitSuspenseRefund(ctx context.Context, communityID, suspenseID string) error {
	susp, err := orders.GetSuspense(ctx, s.DB, communityID, suspenseID)
	if err != nil {
		return err
	}
	if susp.Status != orders.SuspenseRefunding {
		return nil
	}
	p, err := orders.GetPayment(ctx, s.DB, communityID, susp.PaymentID)
	if err != nil {
		return err
	}
	prov, err := s.provider(p)
	if err != nil {
		return err
	}
	res, callErr := s.sendRefund(ctx, prov, payment.RefundRequest{PaymentID: p.ID, MerchantRef: p.MerchantRef, RefundID: susp.ID,
		Amount: susp.Amount, Total: susp.Amount, Reason: "held payment returned"})
	status, ref, msg := res.Status, res.ProviderRef, ""
	switch {
	case callErr == nil:
	case apperr.Is(callErr, apperr.Conflict) || apperr.Is(callErr, apperr.Invalid):
		status, msg = orders.PaymentFailed, callErr.Error()
	default:
		return fmt.Errorf("pos: refund held payment %s at %s: %w", susp.ID, p.Provider, callErr)
	}
	if status == orders.PaymentPending {
		return nil // the provider is processing; the job or a notification comes back
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		o, p, err := lockSale(ctx, tx, communityID, susp.OrderID)
		if err != nil {
			return err
		}
		susp, err := orders.LockSuspense(ctx, tx, communityID, suspenseID)
		if err != nil {
			return err
		}
		if susp.Status != orders.SuspenseRefunding {
			return nil
		}
		return s.finishHeldRefund(ctx, tx, o, p, susp, status, ref, msg)
	})
}

// finishHeldRefund books the answer to a refund of held money: succeeded
// moves it out of suspense (Dr customer refunds payable, Cr where it
// arrived); failed puts the item back to open for the treasurer.
func (s *Service) finishHeldRefund(ctx context.Context, tx *sqlx.Tx, o *orders.Order, p *orders.Payment, susp *orders.Suspense, status, ref, msg string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE suspense_refunds SET status=$2, provider_ref=$3, last_error=$4, finished_at=now() WHERE suspense_id=$1`,
		susp.ID, status, ref, msg); err != nil {
		return err
	}
	if status != orders.PaymentSucceeded {
		_, err := orders.SetSuspenseStatus(ctx, tx, susp.ID, orders.SuspenseRefunding, orders.SuspenseOpen, "")
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM suspense_refunds WHERE suspense_id=$1`, susp.ID)
		}
		return err
	}
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return err
	}
	if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: o.CommunityID, SourceKind: "suspense_refund", SourceID: susp.ID,
		SourceRef: o.Number, Debit: fund.RefundsPayable(), Credit: arrivalAccount(p, row.LocationID), Amount: susp.Amount,
		Memo: "held payment returned to the customer", At: s.now()}); err != nil {
		return err
	}
	_, err = orders.SetSuspenseStatus(ctx, tx, susp.ID, orders.SuspenseRefunding, orders.SuspenseRefunded, "")
	return err
}

// CompleteHeld completes the sale of held money when the amount is the
// sale's and its stock is still there: the goods are reserved and sold again
// at the stall, the order becomes paid and its proceeds are posted from
// suspense (Dr customer refunds payable). Short stock answers
// insufficient_stock and changes nothing.
func (s *Service) CompleteHeld(ctx context.Context, tx *sqlx.Tx, communityID, suspenseID, by string) (*Sale, error) {
	o, p, susp, err := lockOpenHeld(ctx, tx, communityID, suspenseID)
	if err != nil {
		return nil, err
	}
	if !susp.Amount.Equal(o.Total) {
		return nil, apperr.Conflictf("%s was received for a sale of %s: refund it instead", susp.Amount.Yuan(), o.Total.Yuan()).
			Say("err.susp.amount", susp.Amount.Yuan(), o.Total.Yuan())
	}
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return nil, err
	}
	lines := make([]inventory.Line, 0, len(o.Lines))
	for _, l := range o.Lines {
		lines = append(lines, inventory.Line{ProductID: l.ProductID, Qty: l.Qty})
	}
	res, err := s.Inventory.ReserveOwned(ctx, tx, communityID, row.LocationID, lines, o.Number, saleOwner, s.now().Add(s.qrExpiry()))
	if err != nil {
		return nil, err
	}
	if err := s.Inventory.Commit(ctx, tx, communityID, res.ID, o.Number); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pos_sales SET reservation_id=$2 WHERE order_id=$1`, o.ID, res.ID); err != nil {
		return nil, err
	}
	if err := orders.CompleteHeld(ctx, tx, o, p, by, s.now()); err != nil {
		return nil, err
	}
	if o.Total.IsPositive() {
		if _, err := s.Fund.PostProceeds(ctx, tx, proceedsOf(o, p, fund.RefundsPayable())); err != nil {
			return nil, err
		}
	}
	if _, err := orders.SetSuspenseStatus(ctx, tx, susp.ID, orders.SuspenseOpen, orders.SuspenseCompleted, by); err != nil {
		return nil, err
	}
	if err := notify(ctx, tx, communityID, o.ID, orders.Paid); err != nil {
		return nil, err
	}
	return s.GetSale(ctx, tx, communityID, o.ID)
}
