package groupbuy

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// checks are the group-buy invariants; each query returns one line per
// violation naming the rows involved.
var checks = []struct{ name, sql string }{
	{"group-buy join disagrees with its order or payment", `
		SELECT o.number || ' (join ' || j.id || '): join ' || j.status || ', order ' || o.status || ', payment ' || p.status
		FROM groupbuy_joins j JOIN orders o ON o.id = j.order_id JOIN payments p ON p.id = j.payment_id
		WHERE j.community_id = $1 AND NOT (
			(j.status = 'pending' AND o.status = 'awaiting_payment' AND p.status = 'pending') OR
			(j.status = 'paid' AND o.status = 'awaiting_payment' AND p.status = 'succeeded') OR
			(j.status = 'confirmed' AND o.status = 'paid' AND p.status = 'succeeded') OR
			(j.status IN ('refunding','refunded') AND o.status = 'cancelled' AND p.status = 'succeeded') OR
			(j.status = 'expired' AND o.status = 'expired' AND p.status IN ('expired','pending')) OR
			(j.status IN ('held','refunded') AND o.status IN ('expired','cancelled') AND p.status = 'held'))`},
	{"group-buy escrow differs from the paid joins it holds", `
		SELECT 'escrow ' || COALESCE(-a.balance, 0) || ', paid and refunding joins ' || COALESCE(h.total, 0)
		FROM (SELECT sum(j.amount) FILTER (WHERE j.status IN ('paid','refunding')) AS total FROM groupbuy_joins j WHERE j.community_id = $1) h
		LEFT JOIN ledger_accounts a ON a.community_id = $1 AND a.kind = 'groupbuy_escrow' AND a.key = ''
		WHERE COALESCE(-a.balance, 0) <> COALESCE(h.total, 0)`},
	{"group-buy quantities differ from the joins", `
		SELECT c.title || ' (' || c.id || '): held ' || c.held_qty || '/' || COALESCE(sum(j.qty) FILTER (WHERE j.status = 'pending' OR j.paid_at IS NOT NULL), 0)
			|| ', paid ' || c.paid_qty || '/' || COALESCE(sum(j.qty) FILTER (WHERE j.paid_at IS NOT NULL), 0)
		FROM groupbuy_campaigns c LEFT JOIN groupbuy_joins j ON j.campaign_id = c.id
		WHERE c.community_id = $1 GROUP BY c.id
		HAVING c.held_qty <> COALESCE(sum(j.qty) FILTER (WHERE j.status = 'pending' OR j.paid_at IS NOT NULL), 0)
			OR c.paid_qty <> COALESCE(sum(j.qty) FILTER (WHERE j.paid_at IS NOT NULL), 0)`},
	{"group-buy fund share differs from the campaign's", `
		SELECT o.number || ': fund ' || fp.net || ', campaign ' || (j.qty * c.fund_per_unit)
		FROM groupbuy_joins j JOIN groupbuy_campaigns c ON c.id = j.campaign_id JOIN orders o ON o.id = j.order_id
		JOIN fund_proceeds fp ON fp.community_id = j.community_id AND fp.source_kind = 'groupbuy' AND fp.source_id = j.order_id::text
		WHERE j.community_id = $1 AND fp.net <> j.qty * c.fund_per_unit`},
	{"settled group-buy with joins in the wrong state", `
		SELECT c.title || ' (' || c.id || '): ' || c.status || ', join ' || j.id || ' ' || j.status
		FROM groupbuy_campaigns c JOIN groupbuy_joins j ON j.campaign_id = c.id
		WHERE c.community_id = $1 AND ((c.status <> 'open' AND j.status IN ('pending','paid'))
			OR (c.status = 'succeeded' AND j.status IN ('refunding'))
			OR (c.status IN ('failed','closed') AND j.status = 'confirmed'))`},
	{"group-buy refund booked wrongly", `
		SELECT r.id || ': ' || r.kind || ' ' || r.status || ', booked ' || COALESCE(le.id::text, 'no')
		FROM groupbuy_refunds r
		LEFT JOIN ledger_entries le ON le.community_id = r.community_id AND le.kind = 'transfer'
			AND le.source_kind IN ('groupbuy_refund_paid','groupbuy_held_refund_paid') AND le.source_id = r.id::text
		WHERE r.community_id = $1 AND ((r.status = 'succeeded') <> (le.id IS NOT NULL))`},
}

// VerifyIn checks the group-buy invariants of a community in the caller's
// (read-only, repeatable read) transaction and returns one line per problem.
func (s *Service) VerifyIn(ctx context.Context, tx *sqlx.Tx, communityID string) ([]string, error) {
	var out []string
	for _, c := range checks {
		var rows []string
		if err := tx.SelectContext(ctx, &rows, c.sql, communityID); err != nil {
			return nil, fmt.Errorf("groupbuy: verify %s: %w", c.name, err)
		}
		for _, r := range rows {
			out = append(out, c.name+": "+r)
		}
	}
	return out, nil
}
