package groupbuy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/orders"
	"shelin/orders/payment"
)

// ExpireJoin ends an unpaid join whose time is up and frees its quantity.
// The payment is closed at its provider first (outside any transaction); if
// the provider says it was paid after all, the payment is queried and
// confirmed instead. It reports whether the join expired.
func (s *Service) ExpireJoin(ctx context.Context, communityID, joinID string) (bool, error) {
	if !orders.ValidID(joinID) {
		return false, apperr.NotFoundf("join not found")
	}
	j, err := getJoin(ctx, s.DB, `community_id=$1 AND id=$2`, communityID, joinID)
	if err != nil {
		return false, err
	}
	if j.Status != JoinPending || s.now().Before(j.ExpiresAt) {
		return false, nil
	}
	p, err := orders.GetPayment(ctx, s.DB, communityID, j.PaymentID)
	if err != nil {
		return false, err
	}
	prov, err := s.Providers.Get(p.Provider)
	if err != nil {
		return false, err
	}
	if cerr := prov.Close(ctx, p.MerchantRef); cerr != nil {
		if !apperr.Is(cerr, apperr.Conflict) {
			return false, fmt.Errorf("groupbuy: close %s at %s: %w", p.MerchantRef, p.Provider, cerr)
		}
		q, err := prov.Query(ctx, p.MerchantRef)
		if err != nil {
			return false, fmt.Errorf("groupbuy: query %s at %s: %w", p.MerchantRef, p.Provider, err)
		}
		if q.Status == payment.StatusSucceeded {
			return false, db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
				l, err := s.lockJoin(ctx, tx, j.ID)
				if err != nil {
					return err
				}
				_, err = s.confirm(ctx, tx, l, evidence{Source: "close", Amount: q.Amount, TxnID: q.TxnID})
				return err
			})
		}
	}
	expired := false
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		expired = false
		l, err := s.lockJoin(ctx, tx, j.ID)
		if err != nil {
			return err
		}
		if l.j.Status != JoinPending || l.p.Status != orders.PaymentPending {
			return nil
		}
		expired = true
		return s.endPending(ctx, tx, l, orders.Expired)
	})
	return expired, err
}

// SweepExpired expires unpaid joins whose time is up (the safety net of the
// expiry jobs) and returns how many it expired.
func (s *Service) SweepExpired(ctx context.Context, limit int) (int, error) {
	var due []struct {
		CommunityID string `db:"community_id"`
		ID          string `db:"id"`
	}
	if err := s.DB.SelectContext(ctx, &due, `SELECT community_id, id FROM groupbuy_joins WHERE status='pending' AND expires_at <= $1
		ORDER BY expires_at LIMIT $2`, s.now(), limit); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		ok, err := s.ExpireJoin(ctx, d.CommunityID, d.ID)
		if err != nil {
			slog.WarnContext(ctx, "group-buy: expire join", "join", d.ID, "err", err)
			continue
		}
		if ok {
			n++
		}
	}
	return n, nil
}
