package payment

import (
	"context"
	"database/sql"
	"errors"
)

// RefundQuerier is implemented by providers that can say where a refund
// stands (WeChat refund query by out_refund_no, Alipay
// alipay.trade.fastpay.refund.query by out_request_no, the sandbox's books).
// Called outside any transaction. pos uses it to trust a fresh answer over
// a refund notification that may be stale (notifications arrive out of
// order).
type RefundQuerier interface {
	RefundStatus(ctx context.Context, merchantRef, refundID string) (RefundResult, error)
}

// RefundStatus reads the sandbox wallet's refunds: a refund it made
// succeeded; one it never made did not happen.
func (s *SandboxProvider) RefundStatus(ctx context.Context, merchantRef, refundID string) (RefundResult, error) {
	var ref string
	err := s.DB.GetContext(ctx, &ref, `SELECT merchant_ref FROM sandbox_refunds WHERE refund_id=$1`, refundID)
	if errors.Is(err, sql.ErrNoRows) {
		return RefundResult{Status: StatusFailed}, nil
	}
	if err != nil {
		return RefundResult{}, err
	}
	return RefundResult{Status: StatusSucceeded, ProviderRef: "sbr_" + refundID}, nil
}

var (
	_ RefundQuerier = (*SandboxProvider)(nil)
	_ RefundQuerier = (*WeChatProvider)(nil)
	_ RefundQuerier = (*AlipayProvider)(nil)
	_ Remote        = (*WeChatProvider)(nil)
	_ Remote        = (*AlipayProvider)(nil)
)
