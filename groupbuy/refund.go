package groupbuy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
)

// Refund is one entry of the group-buy refund outbox.
type Refund struct {
	ID          string       `db:"id" json:"id"`
	CommunityID string       `db:"community_id" json:"-"`
	JoinID      string       `db:"join_id" json:"join_id"`
	Kind        string       `db:"kind" json:"kind"`
	SuspenseID  *string      `db:"suspense_id" json:"suspense_id,omitempty"`
	Amount      money.Amount `db:"amount" json:"amount"`
	Status      string       `db:"status" json:"status"`
	Attempts    int          `db:"attempts" json:"attempts"`
	LastError   string       `db:"last_error" json:"last_error,omitempty"`
	ProviderRef string       `db:"provider_ref" json:"-"`
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	FinishedAt  *time.Time   `db:"finished_at" json:"finished_at,omitempty"`
}

const refundCols = `id, community_id, join_id, kind, suspense_id, amount, status, attempts, last_error, provider_ref, created_at, finished_at`

func getRefund(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Refund, error) {
	var r Refund
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+refundCols+` FROM groupbuy_refunds WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("refund not found")
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Refunds lists the refunds of a campaign's joins.
func (s *Service) Refunds(ctx context.Context, q sqlx.QueryerContext, campaignID string) ([]Refund, error) {
	out := []Refund{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT r.`+refundColsR+` FROM groupbuy_refunds r JOIN groupbuy_joins j ON j.id = r.join_id
		WHERE j.campaign_id=$1 ORDER BY r.created_at`, campaignID)
	return out, err
}

const refundColsR = `id, r.community_id, r.join_id, r.kind, r.suspense_id, r.amount, r.status, r.attempts, r.last_error, r.provider_ref,
	r.created_at, r.finished_at`

// SubmitRefund is step B and C of the outbox: ask the provider to refund
// (outside any transaction, idempotently on the refund id: asking again
// refunds once) and book its answer. A transient failure is returned so
// the job retries; a refusal marks the refund failed and flags the payment
// for the treasurer (the money stays owed, in escrow or suspense).
func (s *Service) SubmitRefund(ctx context.Context, communityID, refundID string) error {
	if !orders.ValidID(refundID) {
		return apperr.NotFoundf("refund not found")
	}
	r, err := getRefund(ctx, s.DB, `community_id=$1 AND id=$2`, communityID, refundID)
	if err != nil {
		return err
	}
	if r.Status != orders.PaymentPending {
		return nil
	}
	j, err := getJoin(ctx, s.DB, `id=$1`, r.JoinID)
	if err != nil {
		return err
	}
	p, err := orders.GetPayment(ctx, s.DB, communityID, j.PaymentID)
	if err != nil {
		return err
	}
	prov, err := s.Providers.Get(p.Provider)
	if err != nil {
		return err
	}
	res, callErr := prov.Refund(ctx, payment.RefundRequest{PaymentID: p.ID, MerchantRef: p.MerchantRef, RefundID: r.ID,
		Amount: r.Amount, Total: p.Amount, Reason: "社邻益购 refund"})
	status, ref, msg := res.Status, res.ProviderRef, ""
	switch {
	case callErr == nil:
	case apperr.Is(callErr, apperr.Conflict) || apperr.Is(callErr, apperr.Invalid):
		status, msg = orders.PaymentFailed, callErr.Error()
	default:
		err := fmt.Errorf("groupbuy: refund %s at %s: %w", r.ID, p.Provider, callErr)
		if _, e := s.DB.ExecContext(ctx, `UPDATE groupbuy_refunds SET attempts = attempts + 1, last_error=$2 WHERE id=$1 AND status='pending'`,
			r.ID, callErr.Error()); e != nil {
			return errors.Join(err, e)
		}
		return err
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		l, err := s.lockJoin(ctx, tx, j.ID)
		if err != nil {
			return err
		}
		_, err = s.finishRefund(ctx, tx, l, r.ID, status, ref, msg)
		return err
	})
}

// finishRefund books a provider's answer to a pending refund with the
// join's rows locked. Succeeded: the money leaves escrow (failed campaign)
// or suspense (held payment) for the provider's clearing account, and the
// join is refunded. Failed: the payment is flagged for the treasurer.
// Pending: the attempt is recorded. It reports whether the refund changed.
func (s *Service) finishRefund(ctx context.Context, tx *sqlx.Tx, l *locked, refundID, status, providerRef, msg string) (bool, error) {
	if !orders.ValidID(refundID) {
		return false, apperr.NotFoundf("refund not found")
	}
	r, err := getRefund(ctx, tx, `id=$1 FOR UPDATE`, refundID)
	if err != nil {
		return false, err
	}
	if r.JoinID != l.j.ID {
		return false, apperr.NotFoundf("refund not found")
	}
	if r.Status != orders.PaymentPending {
		return false, nil
	}
	if status == "" || status == orders.PaymentPending {
		_, err := tx.ExecContext(ctx, `UPDATE groupbuy_refunds SET attempts = attempts + 1, provider_ref=$2, last_error=$3 WHERE id=$1`,
			r.ID, providerRef, msg)
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_refunds SET status=$2, provider_ref=$3, last_error=$4, attempts = attempts + 1,
		finished_at=$5 WHERE id=$1`, r.ID, status, providerRef, msg, s.now()); err != nil {
		return false, err
	}
	c, o, p := l.c, l.o, l.p
	if status == orders.PaymentFailed {
		slog.WarnContext(ctx, "provider refused a group-buy refund; the money stays owed to the neighbour", "order", o.Number, "refund", r.ID, "err", msg)
		return true, orders.Flag(ctx, tx, p.ID, "group-buy refund "+r.ID+" failed at "+p.Provider+": "+msg)
	}
	from, kind := fund.GroupBuyEscrow(), "groupbuy_refund_paid"
	if r.Kind == "held" {
		from, kind = fund.RefundsPayable(), "groupbuy_held_refund_paid"
		if _, err := orders.SetSuspenseStatus(ctx, tx, *r.SuspenseID, orders.SuspenseRefunding, orders.SuspenseRefunded, ""); err != nil {
			return false, err
		}
	}
	if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: c.CommunityID, SourceKind: kind, SourceID: r.ID,
		SourceRef: o.Number + "/R", Debit: from, Credit: arrival(p), Amount: r.Amount,
		Memo: "group-buy refund paid by " + p.Provider, At: s.now()}); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET refunded_amount = LEAST(amount, refunded_amount + $2) WHERE id=$1`, p.ID, r.Amount); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='refunded' WHERE id=$1`, l.j.ID)
	return true, err
}

// SweepRefunds submits again every refund pending for longer than
// olderThan (a lost job, a provider that said "processing").
func (s *Service) SweepRefunds(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	var due []struct {
		CommunityID string `db:"community_id"`
		ID          string `db:"id"`
	}
	if err := s.DB.SelectContext(ctx, &due, `SELECT community_id, id FROM groupbuy_refunds WHERE status='pending' AND created_at < $1
		ORDER BY created_at LIMIT $2`, s.now().Add(-olderThan), limit); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		if err := s.SubmitRefund(ctx, d.CommunityID, d.ID); err != nil {
			slog.WarnContext(ctx, "group-buy: submit refund", "refund", d.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}
