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
	{"group-buy join holds other slots than its quantity", `
		SELECT o.number || ' (join ' || j.id || ', ' || j.status || '): qty ' || j.qty || ', slots ' || COALESCE(s.n, 0)
		FROM groupbuy_joins j JOIN orders o ON o.id = j.order_id
		LEFT JOIN (SELECT join_id, count(*) AS n FROM groupbuy_slots WHERE join_id IS NOT NULL GROUP BY join_id) s ON s.join_id = j.id
		WHERE j.community_id = $1 AND COALESCE(s.n, 0) <> CASE WHEN j.status = 'pending' OR j.paid_at IS NOT NULL THEN j.qty ELSE 0 END`},
	{"group-buy with other slots than its maximum", `
		SELECT c.title || ' (' || c.id || '): max ' || c.max_qty || ', slots ' || count(s.n)
		FROM groupbuy_campaigns c LEFT JOIN groupbuy_slots s ON s.campaign_id = c.id
		WHERE c.community_id = $1 GROUP BY c.id HAVING count(s.n) <> c.max_qty`},
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
