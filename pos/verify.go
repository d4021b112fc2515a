package pos

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
)

// Report is the whole-system verification of one community (`shelin
// verify`, GET {c}/ledger/verify): the fund's own invariants, stock levels
// against movements, and the money and stock of every sale against its
// ledger entries.
type Report struct {
	OK       bool     `json:"ok"`
	Entries  int      `json:"entries"`
	Sales    int      `json:"sales"`
	Problems []string `json:"problems"`
}

// crossChecks are the invariants that join orders, payments, refunds,
// suspense, stock and the ledger. Each query returns one line per violation,
// naming the ids involved.
var crossChecks = []struct{ name, sql string }{
	{"paid order without exactly one proceeds entry of its total", `
		SELECT o.number || ' (' || o.id || '): total ' || o.total || ', proceeds ' || COALESCE(string_agg(fp.gross::text, ','), 'none')
		FROM orders o LEFT JOIN fund_proceeds fp ON fp.community_id = o.community_id AND fp.source_kind IN ('sale','groupbuy') AND fp.source_id = o.id::text
		WHERE o.community_id = $1 AND o.status = 'paid' AND o.total > 0
		GROUP BY o.id HAVING count(fp.entry_id) <> 1 OR min(fp.gross) <> o.total`},
	{"proceeds entry of an order that is not paid", `
		SELECT fp.source_ref || ' (' || fp.source_id || '): order ' || o.status
		FROM fund_proceeds fp JOIN orders o ON o.id::text = fp.source_id
		WHERE fp.community_id = $1 AND fp.source_kind = 'sale' AND o.status <> 'paid'`},
	{"refunded total differs from its refunds and reversals", `
		SELECT o.number || ' (' || o.id || '): refunded_total ' || o.refunded_total || ', refunds ' || COALESCE(r.total, 0) || ', reversed ' || COALESCE(fp.reversed_gross, 0)
		FROM orders o
		LEFT JOIN (SELECT order_id, sum(amount) AS total FROM refunds WHERE community_id = $1 GROUP BY order_id) r ON r.order_id = o.id
		LEFT JOIN fund_proceeds fp ON fp.community_id = o.community_id AND fp.source_kind = 'sale' AND fp.source_id = o.id::text
		WHERE o.community_id = $1 AND (o.refunded_total <> COALESCE(r.total, 0) OR (o.total > 0 AND o.refunded_total <> COALESCE(fp.reversed_gross, 0)))`},
	{"refund differs from its lines or has no reversal", `
		SELECT r.id || ': amount ' || r.amount || ', lines ' || COALESCE(l.total, 0) || ', reversal ' || COALESCE(fr.gross::text, 'none')
		FROM refunds r
		LEFT JOIN (SELECT refund_id, sum(amount) AS total FROM refund_lines GROUP BY refund_id) l ON l.refund_id = r.id
		LEFT JOIN fund_reversals fr ON fr.community_id = r.community_id AND fr.reversal_id = r.id::text
		WHERE r.community_id = $1 AND (r.amount <> COALESCE(l.total, 0) OR fr.gross IS DISTINCT FROM r.amount)`},
	{"payment status disagrees with its order", `
		SELECT o.number || ' (' || o.id || '): order ' || o.status || ', payment ' || p.status
		FROM orders o JOIN payments p ON p.order_id = o.id
		WHERE o.community_id = $1 AND o.channel = 'pos' AND ((p.status = 'succeeded') <> (o.status = 'paid')
			OR (p.status = 'pending' AND o.status <> 'awaiting_payment')
			OR (p.status = 'held' AND o.status NOT IN ('expired','cancelled')))`},
	{"held money without its suspense entry", `
		SELECT o.number || ' (payment ' || p.id || '): ' || p.status || ', suspense ' || COALESCE(s.status, 'none') || ', booked ' || COALESCE(le.id::text, 'no')
		FROM payments p JOIN orders o ON o.id = p.order_id
		LEFT JOIN payment_suspense s ON s.payment_id = p.id
		LEFT JOIN ledger_entries le ON le.community_id = p.community_id AND le.kind = 'transfer' AND le.source_kind = 'suspense_hold' AND le.source_id = s.id::text
		WHERE p.community_id = $1 AND (p.status = 'held' OR s.id IS NOT NULL) AND (s.id IS NULL OR le.id IS NULL)`},
	{"suspense account differs from the money held", `
		SELECT 'account ' || COALESCE(-a.balance, 0) || ', held ' || COALESCE(h.total, 0)
		FROM (SELECT sum(s.amount) FILTER (WHERE s.status IN ('open','refunding')) AS total FROM payment_suspense s WHERE s.community_id = $1) h
		FULL JOIN (SELECT sum(r.amount) AS owed FROM refunds r WHERE r.community_id = $1 AND r.status <> 'succeeded'
			AND EXISTS (SELECT 1 FROM payments p WHERE p.id = r.payment_id AND p.provider NOT IN ('cash','static'))) o ON true
		LEFT JOIN ledger_accounts a ON a.community_id = $1 AND a.kind = 'customer_refunds_payable' AND a.key = ''
		WHERE COALESCE(-a.balance, 0) <> COALESCE(h.total, 0) + COALESCE(o.owed, 0)`},
	{"sale movements differ from sold minus restocked", `
		WITH sold AS (
			SELECT o.id, o.number, o.status, ol.product_id, ol.qty,
				COALESCE((SELECT sum(rl.qty) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
					WHERE rl.order_line_id = ol.id AND r.restock), 0) AS restocked
			FROM orders o JOIN order_lines ol ON ol.order_id = o.id JOIN pos_sales ps ON ps.order_id = o.id
			JOIN products pr ON pr.id = ol.product_id AND pr.track_stock
			WHERE o.community_id = $1),
		mv AS (
			SELECT ref, product_id, sum(qty) FILTER (WHERE kind = 'sale') AS sale, sum(qty) FILTER (WHERE kind = 'refund_restock') AS back
			FROM stock_movements WHERE community_id = $1 AND kind IN ('sale','refund_restock') GROUP BY ref, product_id)
		SELECT s.number || ' product ' || s.product_id || ': sold ' || CASE WHEN s.status = 'paid' THEN s.qty ELSE 0 END || ', moved ' ||
			COALESCE(-m.sale, 0) || ', restocked ' || s.restocked || ', moved back ' || COALESCE(b.back, 0)
		FROM sold s
		LEFT JOIN mv m ON m.ref = s.number AND m.product_id = s.product_id
		LEFT JOIN mv b ON b.ref = s.number || '/R' AND b.product_id = s.product_id
		WHERE COALESCE(-m.sale, 0) <> CASE WHEN s.status = 'paid' THEN s.qty ELSE 0 END OR COALESCE(b.back, 0) <> s.restocked`},
	{"reservation of a sale in the wrong state", `
		SELECT o.number || ' (' || o.id || '): order ' || o.status || ', reservation ' || r.id || ' ' || r.state
		FROM pos_sales ps JOIN orders o ON o.id = ps.order_id JOIN reservations r ON r.id = ps.reservation_id
		WHERE ps.community_id = $1 AND ((o.status = 'paid' AND r.state <> 'committed')
			OR (o.status = 'awaiting_payment' AND r.state <> 'held')
			OR (o.status IN ('expired','cancelled') AND r.state = 'held'))`},
	{"order lines whose money does not add up", `
		SELECT o.number || ' line ' || ol.line_no || ': net ' || ol.net_amount || ' = ' || ol.cost_amount || ' + ' || ol.maker_share || ' + ' || ol.fee_amount || ' + ' || ol.fund_amount
		FROM order_lines ol JOIN orders o ON o.id = ol.order_id
		WHERE o.community_id = $1 AND ol.net_amount <> ol.cost_amount + ol.maker_share + ol.fee_amount + ol.fund_amount`},
	{"order total differs from its lines", `
		SELECT o.number || ': total ' || o.total || ', lines ' || sum(ol.net_amount)
		FROM orders o JOIN order_lines ol ON ol.order_id = o.id
		WHERE o.community_id = $1 GROUP BY o.id HAVING sum(ol.net_amount) <> o.total`},
}

// Verifier is another area's invariants, checked in Verify's snapshot
// (group-buys: a join's order is paid only when its campaign succeeds, so
// its payment and order follow the group-buy's own rules).
type Verifier interface {
	VerifyIn(ctx context.Context, tx *sqlx.Tx, communityID string) ([]string, error)
}

// Verify runs every check for a community in one REPEATABLE READ READ ONLY
// snapshot, so that a busy stall cannot make a sound system look broken.
func (s *Service) Verify(ctx context.Context, communityID string) (Report, error) {
	rep := Report{Problems: []string{}}
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer tx.Rollback() //nolint:errcheck // read only
	fv, err := fund.VerifyWith(ctx, tx, communityID)
	if err != nil {
		return rep, err
	}
	rep.Entries = fv.Entries
	rep.Problems = append(rep.Problems, fv.Problems...)
	bad, err := s.Inventory.Verify(ctx, tx, communityID)
	if err != nil {
		return rep, fmt.Errorf("pos: verify stock: %w", err)
	}
	for _, m := range bad {
		rep.Problems = append(rep.Problems, fmt.Sprintf("stock level differs from its movements: product %s at %s: on hand %d, movements %d, lots %d, reserved %d, held %d",
			m.ProductID, m.LocationID, m.OnHand, m.Movements, m.Lots, m.Reserved, m.Held))
	}
	if err := tx.GetContext(ctx, &rep.Sales, `SELECT count(*) FROM pos_sales WHERE community_id = $1`, communityID); err != nil {
		return rep, err
	}
	for _, c := range crossChecks {
		var rows []string
		if err := tx.SelectContext(ctx, &rows, c.sql, communityID); err != nil {
			return rep, fmt.Errorf("pos: verify %s: %w", c.name, err)
		}
		for _, r := range rows {
			rep.Problems = append(rep.Problems, c.name+": "+r)
		}
	}
	for _, v := range s.Verifiers {
		more, err := v.VerifyIn(ctx, tx, communityID)
		if err != nil {
			return rep, err
		}
		rep.Problems = append(rep.Problems, more...)
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// VerifyAll verifies every community, in order of creation.
func (s *Service) VerifyAll(ctx context.Context) (map[string]Report, []string, error) {
	var ids []string
	if err := s.DB.SelectContext(ctx, &ids, `SELECT id FROM communities ORDER BY created_at`); err != nil {
		return nil, nil, err
	}
	out := make(map[string]Report, len(ids))
	for _, id := range ids {
		r, err := s.Verify(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		out[id] = r
	}
	return out, ids, nil
}
