package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/money"
)

// SandboxFeeRate is what the simulated provider withholds (WeChat's 0.6 %),
// in basis points.
const SandboxFeeRate = 60

// sandboxFee is amount × rate, rounded half up to the cent.
func sandboxFee(a money.Amount) money.Amount {
	return money.FromCents((a.Cents()*SandboxFeeRate + 5000) / 10000)
}

// SandboxStatement is the sandbox provider's statement of a business day,
// from its own books (sandbox_payments, sandbox_refunds), in the WeChat
// trade bill format: what a real provider's download would return.
func SandboxStatement(ctx context.Context, q sqlx.QueryerContext, cid, date string, loc *time.Location) ([]byte, error) {
	day, err := ParseDay(date)
	if err != nil {
		return nil, err
	}
	start, end := bounds(day, loc)
	var rows []struct {
		Kind   string       `db:"kind"`
		Ref    string       `db:"merchant_ref"`
		Refund string       `db:"refund_no"`
		Txn    string       `db:"txn"`
		Amount money.Amount `db:"amount"`
		At     time.Time    `db:"at"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT 'payment' AS kind, sp.merchant_ref, '' AS refund_no, sp.txn_id AS txn, sp.amount, sp.paid_at AS at
		FROM sandbox_payments sp JOIN payments p ON p.id = sp.payment_id
		WHERE p.community_id = $1 AND sp.paid_at >= $2 AND sp.paid_at < $3
		UNION ALL
		SELECT 'refund', sr.merchant_ref, sr.refund_id, '50' || substr(md5(sr.refund_id), 1, 26), sr.amount, sr.created_at
		FROM sandbox_refunds sr JOIN payments p ON p.merchant_ref = sr.merchant_ref
		WHERE p.community_id = $1 AND sr.created_at >= $2 AND sr.created_at < $3
		ORDER BY at`, cid, start, end); err != nil {
		return nil, fmt.Errorf("reconcile: sandbox statement: %w", err)
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, Row{Kind: r.Kind, MerchantRef: r.Ref, RefundNo: r.Refund, TxnID: r.Txn, Amount: r.Amount, Fee: sandboxFee(r.Amount), At: r.At})
	}
	return WriteWeChat(out, loc), nil
}

// ImportSandbox downloads the sandbox's statement of a day and imports it
// (the scheduled download does the same for every provider that has one).
func (s *Service) ImportSandbox(ctx context.Context, cid, date, userID string) (*ImportResult, error) {
	com, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	data, err := SandboxStatement(ctx, s.DB, cid, date, com.Location())
	if err != nil {
		return nil, err
	}
	return s.Import(ctx, ImportInput{CommunityID: cid, Provider: "sandbox", Filename: "sandbox-" + date + ".csv", Data: data, Day: date, UserID: userID})
}
