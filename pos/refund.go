package pos

import (
	"context"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
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

// Refund gives back lines of a paid sale in the caller's transaction: the
// refund recorded, the money returned (cash from the stall's open drawer,
// QR through its provider), the goods restocked when asked, and the fund
// postings reversed in proportion, with both people recorded. Use an
// Idempotency-Key around it: a second call is a second refund.
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
	if p.Method == "cash" {
		var id string
		if err := tx.GetContext(ctx, &id, `SELECT id FROM pos_shifts WHERE community_id=$1 AND location_id=$2 AND closed_at IS NULL FOR SHARE`,
			communityID, row.LocationID); err != nil {
			return nil, apperr.Conflictf("open a shift at the stall to pay cash back from its drawer")
		}
		shiftID = &id
	}
	prov, err := s.Providers.Get(p.Provider)
	if err != nil {
		return nil, err
	}
	res, err := prov.Refund(ctx, tx, payment.RefundRequest{PaymentID: p.ID, MerchantRef: p.MerchantRef, RefundID: r.ID,
		Amount: r.Amount, Total: p.Amount, Reason: r.Reason})
	if err != nil {
		return nil, err
	}
	if err := orders.FinishRefund(ctx, tx, r.ID, res.Status, res.ProviderRef); err != nil {
		return nil, err
	}
	r.Status, r.ProviderRef = res.Status, res.ProviderRef
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
		ReversalID: r.ID, Gross: r.Amount}); err != nil {
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
