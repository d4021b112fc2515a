package pos

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
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// RefundInput is a refund by lines at a stall.
type RefundInput struct {
	Items      []orders.RefundItem
	Reason     string
	Restock    bool
	UserID     string // who asks
	ApproverID string // who approved with their PIN (see Approve)
	// ByManager: the one who asks is an admin or treasurer signed in with
	// their password, whose own authority approves the refund.
	ByManager bool
}

// refundsAtOnce reports whether a provider's refunds are handed over on the
// spot (cash from the drawer, a static 收款码 paid back by hand) rather than
// through the provider's servers.
func refundsAtOnce(provider string) bool {
	return provider == payment.Cash || provider == payment.Static
}

// Refund gives back lines of a paid sale in the caller's transaction (step A
// of the outbox): the refund is recorded with each line's parts (see
// orders.CreateRefund), the goods restocked when asked, and the ledger
// reversal posted exactly per line. Cash comes out of the stall's open drawer
// at once. A provider refund is owed to the customer (customer refunds
// payable) and a durable job calls the provider outside any transaction,
// idempotently on the refund id (out_refund_no); its answer is booked by
// finishRefund. Use an Idempotency-Key around it: a second call is a second
// refund.
func (s *Service) Refund(ctx context.Context, tx *sqlx.Tx, communityID, orderID string, in RefundInput) (*orders.Refund, error) {
	if in.ApproverID == "" && !in.ByManager {
		return nil, apperr.Field("approver", "a second person's PIN is needed to refund")
	}
	r, o, err := orders.CreateRefund(ctx, tx, communityID, orderID, orders.NewRefund{Items: in.Items, Reason: in.Reason, Restock: in.Restock,
		CreatedBy: in.UserID, ApprovedBy: in.ApproverID})
	if err != nil {
		return nil, err
	}
	row, err := s.saleRow(ctx, tx, o.ID)
	if err != nil {
		return nil, apperr.NotFoundf("sale not found")
	}
	p, err := orders.PaymentOf(ctx, tx, o.ID)
	if err != nil {
		return nil, err
	}
	var shiftID *string
	credit := fund.RefundsPayable()
	switch {
	case p.Method == "cash":
		sh, err := s.CurrentShift(ctx, tx, communityID, row.LocationID)
		if err != nil {
			return nil, apperr.Conflictf("open a shift at the stall to pay cash back from its drawer").Say("err.refund.noshift")
		}
		d, err := DrawerOf(ctx, tx, sh)
		if err != nil {
			return nil, err
		}
		if d.Expected.LessThan(r.Amount) {
			return nil, apperr.Conflictf("the drawer should hold %s, not enough to pay back %s in cash", d.Expected.Yuan(), r.Amount.Yuan()).
				Say("err.overdraw.cash_drawer", d.Expected.Yuan(), r.Amount.Yuan())
		}
		shiftID = &sh.ID
		credit = fund.CashDrawer(row.LocationID)
	case p.Provider == payment.Static:
		credit = fund.ProviderClearing(payment.Static)
	}
	if refundsAtOnce(p.Provider) {
		ref := "drawer"
		if p.Provider == payment.Static {
			ref = "manual"
		}
		if _, err := orders.FinishRefund(ctx, tx, r.ID, orders.PaymentSucceeded, ref, ""); err != nil {
			return nil, err
		}
		r.Status, r.ProviderRef = orders.PaymentSucceeded, ref
	} else if _, err := jobs.Insert(ctx, tx, SubmitRefundArgs{CommunityID: communityID, RefundID: r.ID}, &jobs.InsertOpts{MaxAttempts: 25}); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pos_refunds (refund_id, shift_id, cash) VALUES ($1,$2,$3)`, r.ID, shiftID, p.Method == "cash"); err != nil {
		return nil, err
	}
	if in.Restock {
		lines := make([]inventory.Line, 0, len(r.Lines))
		for _, l := range r.Lines {
			lines = append(lines, inventory.Line{ProductID: l.ProductID, Qty: l.Qty})
		}
		if err := s.Inventory.Restock(ctx, tx, communityID, row.LocationID, lines, o.Number+"/R"); err != nil {
			return nil, err
		}
	}
	if _, err := s.Fund.ReverseProceeds(ctx, tx, fund.Reversal{CommunityID: communityID, SourceKind: fund.SourceSale, SourceID: o.ID,
		ReversalID: r.ID, Gross: r.Amount, CreditAccount: credit, Parts: reversalParts(r), At: s.now()}); err != nil {
		return nil, err
	}
	if in.UserID != "" && in.ApproverID != "" {
		if err := RecordApproval(ctx, tx, communityID, ActionRefund, r.ID, in.UserID, in.ApproverID); err != nil {
			return nil, err
		}
	}
	if err := notify(ctx, tx, communityID, o.ID, o.Status); err != nil {
		return nil, err
	}
	return r, nil
}

// reversalParts sums a refund's lines into what each credit of the sale's
// entry gives back.
func reversalParts(r *orders.Refund) *fund.ReversalParts {
	parts := &fund.ReversalParts{}
	makers := map[string]money.Amount{}
	for _, l := range r.Lines {
		parts.SupplierCost = parts.SupplierCost.Add(l.Cost)
		parts.ProviderFee = parts.ProviderFee.Add(l.Fee)
		parts.Fund = parts.Fund.Add(l.Fund)
		parts.WriteOff = parts.WriteOff.Add(l.WriteOff)
		if l.Maker.IsPositive() {
			makers[l.MakerName] = makers[l.MakerName].Add(l.Maker)
		}
	}
	parts.Makers = makerParts(makers)
	return parts
}

// SubmitRefund is step B and C of a provider refund's outbox: it asks the
// provider to refund (outside any transaction, idempotently on the refund id)
// and books the answer. A refund no longer pending is left alone. A
// transient failure is returned so the job retries; a refusal marks the
// refund failed (its money stays owed to the customer, in suspense, for the
// treasurer).
func (s *Service) SubmitRefund(ctx context.Context, communityID, refundID string) error {
	_, err := s.submitRefund(ctx, communityID, refundID)
	return err
}

// submitRefund is SubmitRefund reporting whether it asked the provider.
func (s *Service) submitRefund(ctx context.Context, communityID, refundID string) (bool, error) {
	r, err := orders.GetRefund(ctx, s.DB, communityID, refundID)
	if err != nil {
		return false, err
	}
	if r.Status != orders.PaymentPending {
		return false, nil
	}
	p, err := orders.GetPayment(ctx, s.DB, communityID, r.PaymentID)
	if err != nil {
		return false, err
	}
	prov, err := s.provider(p)
	if err != nil {
		return false, err
	}
	res, callErr := s.sendRefund(ctx, prov, payment.RefundRequest{PaymentID: p.ID, MerchantRef: p.MerchantRef, RefundID: r.ID,
		Amount: r.Amount, Total: p.Amount, Reason: r.Reason})
	status, ref, msg := res.Status, res.ProviderRef, ""
	switch {
	case callErr == nil:
	case apperr.Is(callErr, apperr.Conflict) || apperr.Is(callErr, apperr.Invalid):
		status, msg = orders.PaymentFailed, callErr.Error()
	default:
		return true, fmt.Errorf("pos: refund %s at %s: %w", r.ID, p.Provider, callErr)
	}
	return true, db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		o, err := orders.Lock(ctx, tx, communityID, r.OrderID)
		if err != nil {
			return err
		}
		_, err = s.finishRefund(ctx, tx, o, r.ID, status, ref, msg)
		return err
	})
}

// finishRefund books a provider's answer to a pending refund, in the
// caller's transaction with the order locked: succeeded moves the money owed
// (customer refunds payable) out of the provider's clearing account; failed
// leaves it owed and flags the payment for the treasurer; pending records the
// attempt. It reports whether the refund changed.
func (s *Service) finishRefund(ctx context.Context, tx *sqlx.Tx, o *orders.Order, refundID, status, providerRef, msg string) (bool, error) {
	r, err := orders.LockRefund(ctx, tx, o.CommunityID, refundID)
	if err != nil {
		return false, err
	}
	if r.OrderID != o.ID {
		return false, apperr.NotFoundf("refund not found")
	}
	if r.Status != orders.PaymentPending {
		return false, nil
	}
	if status == "" {
		status = orders.PaymentPending
	}
	changed, err := orders.FinishRefund(ctx, tx, r.ID, status, providerRef, msg)
	if err != nil || !changed || status == orders.PaymentPending {
		return false, err
	}
	p, err := orders.GetPayment(ctx, tx, o.CommunityID, r.PaymentID)
	if err != nil {
		return false, err
	}
	switch status {
	case orders.PaymentSucceeded:
		if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: o.CommunityID, SourceKind: "refund_paid", SourceID: r.ID,
			SourceRef: o.Number + "/R", Debit: fund.RefundsPayable(), Credit: fund.ProviderClearing(p.Provider), Amount: r.Amount,
			Memo: "refund paid by " + p.Provider, At: s.now()}); err != nil {
			return false, err
		}
	case orders.PaymentFailed:
		slog.WarnContext(ctx, "provider refused a refund; the money stays owed to the customer", "order", o.Number, "refund", r.ID, "err", msg)
		if err := orders.Flag(ctx, tx, p.ID, "refund "+r.ID+" failed at "+p.Provider+": "+msg); err != nil {
			return false, err
		}
	}
	return true, notify(ctx, tx, o.CommunityID, o.ID, o.Status)
}
