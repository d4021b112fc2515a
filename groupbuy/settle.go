package groupbuy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
)

// Settled says what a settlement did.
type Settled struct {
	Campaign *Campaign
	// Now is true for the call that settled the campaign, false when it was
	// settled before (by another call, replica or the deadline job).
	Now       bool
	Confirmed int // joins confirmed (succeeded)
	Refunding int // paid joins queued for refund (failed)
	Expired   int // unpaid joins closed
}

// Settle settles a campaign now: in one transaction with the campaign row
// locked, the threshold decides. Met: every paid join's order becomes paid,
// its stock committed and its proceeds posted from escrow (the fund share
// per unit, traceable to the join's order). Not met: every paid join's order
// is cancelled, its stock released and its refund queued in the outbox.
// Unpaid joins are closed either way (and closed at their provider after
// commit; a payment that still arrives is held and refunded). A campaign
// that is no longer open is left as it is: settling twice, or on two
// replicas at once, has one effect.
func (s *Service) Settle(ctx context.Context, communityID, campaignID string) (*Settled, error) {
	return s.settle(ctx, communityID, campaignID, false)
}

// Cancel closes an open campaign before its deadline (status closed): every
// paid join is refunded as for a failed campaign, exactly once.
func (s *Service) Cancel(ctx context.Context, communityID, campaignID string) (*Settled, error) {
	return s.settle(ctx, communityID, campaignID, true)
}

func (s *Service) settle(ctx context.Context, communityID, campaignID string, cancel bool) (*Settled, error) {
	var out *Settled
	var toClose []*orders.Payment
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		out, toClose = &Settled{}, nil
		c, err := lockCampaign(ctx, tx, campaignID)
		if err != nil {
			return err
		}
		if c.CommunityID != communityID {
			return apperr.NotFoundf("group-buy not found")
		}
		out.Campaign = c
		if c.Status != Open {
			return nil
		}
		var js []Join
		if err := tx.SelectContext(ctx, &js, `SELECT `+joinCols+` FROM groupbuy_joins WHERE campaign_id=$1 AND status IN ('pending','paid')
			ORDER BY order_id`, c.ID); err != nil {
			return err
		}
		success := c.PaidQty >= c.MinQty && !cancel
		now := s.now()
		for i := range js {
			l, err := s.lockRest(ctx, tx, c, &js[i])
			if err != nil {
				return err
			}
			switch l.j.Status {
			case JoinPending:
				if err := s.endPending(ctx, tx, l, orders.Expired); err != nil {
					return err
				}
				toClose = append(toClose, l.p)
				out.Expired++
			case JoinPaid:
				if success {
					if err := s.confirmJoin(ctx, tx, l); err != nil {
						return err
					}
					out.Confirmed++
				} else {
					if err := s.failJoin(ctx, tx, l); err != nil {
						return err
					}
					out.Refunding++
				}
			}
		}
		status := Failed
		switch {
		case success:
			status = Succeeded
		case cancel:
			status = Closed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_campaigns SET status=$2, settled_at=$3 WHERE id=$1`, c.ID, status, now); err != nil {
			return err
		}
		out.Now = true
		c, err = getCampaign(ctx, tx, `id=$1`, c.ID)
		out.Campaign = c
		return err
	})
	if err != nil {
		return nil, err
	}
	// Unpaid joins can no longer be paid: close them at their provider
	// (outside any transaction; a payment that beat the close is held and
	// refunded when its notification arrives).
	for _, p := range toClose {
		prov, err := s.Providers.Get(p.Provider)
		if err != nil {
			continue
		}
		if err := prov.Close(ctx, p.MerchantRef); err != nil {
			slog.WarnContext(ctx, "group-buy: close an unpaid join at its provider", "merchant_ref", p.MerchantRef, "err", err)
		}
	}
	if out.Now {
		slog.InfoContext(ctx, "group-buy settled", "campaign", campaignID, "status", out.Campaign.Status,
			"confirmed", out.Confirmed, "refunding", out.Refunding, "expired", out.Expired)
	}
	return out, nil
}

// confirmJoin completes a paid join of a successful campaign.
func (s *Service) confirmJoin(ctx context.Context, tx *sqlx.Tx, l *locked) error {
	c, o, p, j := l.c, l.o, l.p, l.j
	now := s.now()
	if _, err := orders.MarkPaid(ctx, tx, o.ID, now); err != nil {
		return err
	}
	debit := fund.GroupBuyEscrow()
	if p.Provider == payment.Sandbox {
		// Simulated money: back to sandbox clearing first, so that the
		// proceeds entry and its lots are marked simulated.
		if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: c.CommunityID, SourceKind: "groupbuy_escrow_release", SourceID: j.ID,
			SourceRef: o.Number, Debit: fund.GroupBuyEscrow(), Credit: fund.ProviderClearing(p.Provider), Amount: p.Amount,
			Memo: "group-buy succeeded: " + c.Title, At: now}); err != nil {
			return err
		}
		debit = fund.ProviderClearing(p.Provider)
	}
	cost := money.Zero
	for _, ln := range o.Lines {
		cost = cost.Add(ln.CostAmount)
	}
	if _, err := s.Fund.PostProceeds(ctx, tx, fund.Proceeds{CommunityID: c.CommunityID, SourceKind: fund.SourceGroupBuy, SourceID: o.ID,
		SourceRef: fmt.Sprintf("%s %s", o.Number, c.Title), DebitAccount: debit, Gross: o.Total, SupplierCost: cost, At: now}); err != nil {
		return err
	}
	if j.ReservationID != nil {
		if err := s.Inventory.Commit(ctx, tx, c.CommunityID, *j.ReservationID, o.Number); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='confirmed' WHERE id=$1`, j.ID)
	return err
}

// failJoin ends a paid join of a failed campaign: the order is cancelled,
// the stock released and the refund queued (the money stays in escrow until
// the provider confirms the refund).
func (s *Service) failJoin(ctx context.Context, tx *sqlx.Tx, l *locked) error {
	if _, err := orders.Close(ctx, tx, l.o.ID, orders.Cancelled); err != nil {
		return err
	}
	if l.j.ReservationID != nil {
		if err := s.Inventory.Release(ctx, tx, l.c.CommunityID, *l.j.ReservationID); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groupbuy_joins SET status='refunding' WHERE id=$1`, l.j.ID); err != nil {
		return err
	}
	return s.queueRefund(ctx, tx, l.c.CommunityID, l.j.ID, "failed", "", l.p.Amount)
}

// SettleDue settles every open campaign whose deadline has passed (the
// safety net of the deadline jobs) and returns how many it settled.
func (s *Service) SettleDue(ctx context.Context, limit int) (int, error) {
	var due []struct {
		CommunityID string `db:"community_id"`
		ID          string `db:"id"`
	}
	if err := s.DB.SelectContext(ctx, &due, `SELECT community_id, id FROM groupbuy_campaigns WHERE status='open' AND deadline <= $1
		ORDER BY deadline LIMIT $2`, s.now(), limit); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		res, err := s.Settle(ctx, d.CommunityID, d.ID)
		if err != nil {
			slog.WarnContext(ctx, "group-buy: settle at deadline", "campaign", d.ID, "err", err)
			continue
		}
		if res.Now {
			n++
		}
	}
	return n, nil
}
