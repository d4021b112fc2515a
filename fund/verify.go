package fund

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Violation is one broken invariant, with the ids of the rows involved.
type Violation struct {
	Check  string   `json:"check"`
	Detail string   `json:"detail"`
	IDs    []string `json:"ids"`
}

// VerifyResult is what Verify found: OK when there are no problems.
// Problems are the violations as one line of text each (check: detail).
type VerifyResult struct {
	OK         bool        `json:"ok"`
	Entries    int         `json:"entries"`
	Problems   []string    `json:"problems"`
	Violations []Violation `json:"violations"`
}

// VerifyReport is the result of VerifyIn (the same as VerifyResult).
type VerifyReport = VerifyResult

// verifyChecks are queries that return one row per problem: the ids of the
// rows involved and a description. $1 is the community id.
var verifyChecks = []struct{ name, sql string }{
	{"entry does not balance", `
		SELECT ARRAY[e.id::text], count(p.id) || ' postings sum to ' || COALESCE(sum(p.amount), 0)
		FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id
		WHERE e.community_id = $1
		GROUP BY e.id HAVING COALESCE(sum(p.amount), 0) <> 0 OR count(p.id) < 2`},
	{"posting to another community's account", `
		SELECT ARRAY[e.id::text, p.account_id::text], 'entry posts to account of community ' || COALESCE(a.community_id::text, 'none')
		FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
		LEFT JOIN ledger_accounts a ON a.id = p.account_id
		WHERE e.community_id = $1 AND a.community_id IS DISTINCT FROM $1`},
	{"account balance differs from the sum of its postings", `
		SELECT ARRAY[a.id::text], a.kind || ':' || a.key || ' stored ' || a.balance || ', postings ' || COALESCE(s.total, 0)
		FROM ledger_accounts a
		LEFT JOIN (SELECT p.account_id, sum(p.amount) AS total FROM ledger_postings p
		           JOIN ledger_accounts x ON x.id = p.account_id WHERE x.community_id = $1 GROUP BY p.account_id) s ON s.account_id = a.id
		WHERE a.community_id = $1 AND a.balance <> COALESCE(s.total, 0)`},
	{"real money below zero", `
		SELECT ARRAY[a.id::text], a.kind || ':' || a.key || ' holds ' || a.balance
		FROM ledger_accounts a WHERE a.community_id = $1 AND a.kind IN ('cash_drawer', 'bank') AND a.balance < 0`},
	{"fund money turned into a debt", `
		SELECT ARRAY[a.id::text], a.kind || ':' || a.key || ' stored ' || a.balance
		FROM ledger_accounts a WHERE a.community_id = $1 AND a.kind IN ('fund_earmark', 'project') AND a.balance > 0`},
	{"simulated flag differs from the entry's postings", `
		SELECT ARRAY[e.id::text], 'simulated ' || e.simulated || ', posts to sandbox clearing ' || (s.entry_id IS NOT NULL)
		FROM ledger_entries e
		LEFT JOIN (SELECT DISTINCT p.entry_id FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
		           WHERE a.community_id = $1 AND a.kind = 'provider_clearing' AND a.key = 'sandbox') s ON s.entry_id = e.id
		WHERE e.community_id = $1 AND e.simulated <> (s.entry_id IS NOT NULL)`},
	{"proceeds differ from their entry", `
		SELECT ARRAY[p.entry_id::text], p.source_kind || ' ' || p.source_id || ': gross ' || p.gross || ' net ' || p.net
		    || ' (cost ' || p.supplier_cost || ', makers ' || p.maker_share || ', fee ' || p.provider_fee || '); entry debits '
		    || COALESCE(s.debit, 0) || ', credits the fund ' || COALESCE(s.fund, 0) || ', simulated ' || p.simulated || '/' || COALESCE(e.simulated::text, 'no entry')
		FROM fund_proceeds p
		LEFT JOIN ledger_entries e ON e.id = p.entry_id
		LEFT JOIN (SELECT x.entry_id,
		                  sum(x.amount) FILTER (WHERE x.account_id = pr.debit_account) AS debit,
		                  -sum(x.amount) FILTER (WHERE a.kind = 'fund_earmark') AS fund,
		                  -sum(x.amount) FILTER (WHERE a.kind = 'supplier_payable') AS cost,
		                  -sum(x.amount) FILTER (WHERE a.kind = 'maker_payable') AS makers,
		                  -sum(x.amount) FILTER (WHERE a.kind = 'provider_fees') AS fee
		           FROM ledger_postings x JOIN ledger_accounts a ON a.id = x.account_id
		           JOIN fund_proceeds pr ON pr.entry_id = x.entry_id
		           WHERE pr.community_id = $1 GROUP BY x.entry_id) s ON s.entry_id = p.entry_id
		WHERE p.community_id = $1 AND (
		      p.net <> p.gross - p.supplier_cost - p.maker_share - p.provider_fee
		   OR COALESCE(s.debit, 0) <> p.gross OR COALESCE(s.fund, 0) <> p.net OR COALESCE(s.cost, 0) <> p.supplier_cost
		   OR COALESCE(s.makers, 0) <> p.maker_share OR COALESCE(s.fee, 0) <> p.provider_fee
		   OR e.id IS NULL OR e.simulated <> p.simulated)`},
	{"proceeds' refunded totals differ from their reversals", `
		SELECT ARRAY[p.entry_id::text], p.source_kind || ' ' || p.source_id || ': reversed gross ' || p.reversed_gross || '/' || COALESCE(r.gross, 0)
		    || ', reversed net ' || p.reversed_net || '/' || COALESCE(r.net, 0)
		FROM fund_proceeds p
		LEFT JOIN (SELECT proceeds_entry_id, sum(gross) AS gross, sum(net) AS net FROM fund_reversals WHERE community_id = $1
		           GROUP BY proceeds_entry_id) r ON r.proceeds_entry_id = p.entry_id
		WHERE p.community_id = $1 AND (p.reversed_gross <> COALESCE(r.gross, 0) OR p.reversed_net <> COALESCE(r.net, 0))`},
	{"reversal's parts do not add up to its gross", `
		SELECT ARRAY[r.entry_id::text], r.reversal_id || ': gross ' || r.gross || ', parts ' || COALESCE(s.total, 0) || ' + write-off ' || r.write_off
		    || ', fund parts ' || COALESCE(s.fund, 0) || ' (net ' || r.net || ')'
		FROM fund_reversals r
		LEFT JOIN (SELECT r2.entry_id, sum((x->>'amount')::numeric) AS total,
		                  sum((x->>'amount')::numeric) FILTER (WHERE x->>'kind' = 'fund_earmark') AS fund
		           FROM fund_reversals r2, jsonb_array_elements(r2.parts) x WHERE r2.community_id = $1 GROUP BY r2.entry_id) s ON s.entry_id = r.entry_id
		WHERE r.community_id = $1 AND (COALESCE(s.total, 0) + r.write_off <> r.gross OR COALESCE(s.fund, 0) <> r.net)`},
	{"reversals took back more than a posting held", `
		SELECT ARRAY[t.proceeds_entry_id::text, t.account_id::text], 'reversed ' || t.taken || ' of ' || COALESCE(-p.amount, 0)
		FROM (SELECT r.proceeds_entry_id, (x->>'account_id')::uuid AS account_id, sum((x->>'amount')::numeric) AS taken
		      FROM fund_reversals r, jsonb_array_elements(r.parts) x WHERE r.community_id = $1
		      GROUP BY r.proceeds_entry_id, (x->>'account_id')::uuid) t
		LEFT JOIN ledger_postings p ON p.entry_id = t.proceeds_entry_id AND p.account_id = t.account_id AND p.amount < 0
		WHERE t.taken > COALESCE(-p.amount, 0)`},
	{"lot not conserved", `
		SELECT ARRAY[l.id::text], 'original ' || l.original || ' <> remaining ' || l.remaining || ' + allocated ' || l.allocated || ' + reversed ' || l.reversed
		FROM fund_lots l WHERE l.community_id = $1 AND l.original <> l.remaining + l.allocated + l.reversed`},
	{"lot allocations differ from the lot's allocated amount", `
		SELECT ARRAY[l.id::text], 'allocated ' || l.allocated || ', allocations ' || COALESCE(s.total, 0)
		FROM fund_lots l
		LEFT JOIN (SELECT lot_id, sum(amount) AS total FROM fund_lot_allocations WHERE community_id = $1 GROUP BY lot_id) s ON s.lot_id = l.id
		WHERE l.community_id = $1 AND l.allocated <> COALESCE(s.total, 0)`},
	{"earmark account differs from the money left in its lots", `
		SELECT ARRAY[COALESCE(a.id::text, '')], COALESCE(a.key, l.earmark) || ': account ' || COALESCE(-a.balance, 0) || ', lots ' || COALESCE(l.total, 0)
		FROM (SELECT id, key, balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_earmark') a
		FULL JOIN (SELECT earmark, sum(remaining) AS total FROM fund_lots WHERE community_id = $1 GROUP BY earmark) l
		  ON l.earmark = a.key
		WHERE COALESCE(-a.balance, 0) <> COALESCE(l.total, 0)`},
	{"deficit account differs from the lots' deficits and the refunds' write-offs", `
		SELECT ARRAY[]::text[], 'account ' || d.balance || ', lots ' || d.lots || ' + write-offs ' || d.write_offs
		FROM (SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_deficit'), 0) AS balance,
		             COALESCE((SELECT sum(deficit) FROM fund_lots WHERE community_id = $1), 0) AS lots,
		             COALESCE((SELECT sum(write_off) FROM fund_reversals WHERE community_id = $1), 0) AS write_offs) d
		WHERE d.balance <> d.lots + d.write_offs`},
	{"proceeds' net differs from its lots", `
		SELECT ARRAY[p.entry_id::text], p.source_kind || ' ' || p.source_id || ': net ' || (p.net - p.reversed_net) || ', lots ' || COALESCE(s.total, 0)
		FROM fund_proceeds p
		LEFT JOIN (SELECT entry_id, sum(original - reversed - deficit) AS total FROM fund_lots WHERE community_id = $1 GROUP BY entry_id) s ON s.entry_id = p.entry_id
		WHERE p.community_id = $1 AND p.net - p.reversed_net <> COALESCE(s.total, 0)`},
	{"project's fund part differs from its lot allocations", `
		SELECT ARRAY[p.id::text], p.title || ': committed ' || p.fund_committed || ', allocations ' || COALESCE(s.total, 0)
		FROM fund_projects p
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_lot_allocations WHERE community_id = $1 GROUP BY project_id) s ON s.project_id = p.id
		WHERE p.community_id = $1 AND p.fund_committed <> COALESCE(s.total, 0)`},
	{"project account differs from committed + crowdfunded − disbursed", `
		SELECT ARRAY[p.id::text], p.title || ': account ' || COALESCE(-a.balance, 0) || ', expected ' || (p.fund_committed + p.crowdfunded - p.disbursed)
		FROM fund_projects p
		LEFT JOIN ledger_accounts a ON a.community_id = p.community_id AND a.kind = 'project' AND a.key = p.id::text
		WHERE p.community_id = $1 AND COALESCE(-a.balance, 0) <> p.fund_committed + p.crowdfunded - p.disbursed`},
	{"project contributions or disbursements differ from their records", `
		SELECT ARRAY[p.id::text], p.title || ': crowdfunded ' || p.crowdfunded || '/' || (COALESCE(c.total, 0) - COALESCE(r.total, 0))
		    || ', disbursed ' || p.disbursed || '/' || COALESCE(d.total, 0)
		FROM fund_projects p
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_contributions WHERE community_id = $1 GROUP BY project_id) c ON c.project_id = p.id
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_contribution_refunds WHERE community_id = $1 GROUP BY project_id) r ON r.project_id = p.id
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_disbursements WHERE community_id = $1 GROUP BY project_id) d ON d.project_id = p.id
		WHERE p.community_id = $1 AND (p.crowdfunded <> COALESCE(c.total, 0) - COALESCE(r.total, 0) OR p.disbursed <> COALESCE(d.total, 0))`},
}

// Verify proves the community's ledger sound, inside one REPEATABLE READ
// READ ONLY snapshot: see VerifyIn for the checks.
func (l *Ledger) Verify(ctx context.Context, communityID string) (VerifyResult, error) {
	var res VerifyResult
	err := l.inSnapshot(ctx, func(tx *sqlx.Tx) (err error) {
		res, err = l.VerifyIn(ctx, tx, communityID)
		return err
	})
	return res, err
}

// VerifyIn runs the fund's checks for one community on q, which should be a
// REPEATABLE READ READ ONLY transaction of the caller's (so that a
// cross-domain verify sees one snapshot): every entry balances, balances
// equal the sums of postings, real money (bank, drawers) is not negative,
// simulated flags agree with the postings, proceeds agree with their entries
// (net = gross − cost − makers − fee), refunded totals agree with their
// reversals, reversal parts add up and never exceed the original postings,
// lots are conserved and agree with earmark accounts and allocations, the
// deficit account equals lot deficits plus refund write-offs, and projects
// agree with their records.
func (l *Ledger) VerifyIn(ctx context.Context, q sqlx.QueryerContext, communityID string) (VerifyReport, error) {
	return VerifyWith(ctx, q, communityID)
}

// VerifyWith is VerifyIn as a function (kept for existing callers).
func VerifyWith(ctx context.Context, q sqlx.QueryerContext, communityID string) (VerifyResult, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return VerifyResult{}, err
	}
	res := VerifyResult{Problems: []string{}, Violations: []Violation{}}
	if err := sqlx.GetContext(ctx, q, &res.Entries, `SELECT count(*) FROM ledger_entries WHERE community_id = $1`, communityID); err != nil {
		return res, fmt.Errorf("fund: verify: %w", err)
	}
	for _, c := range verifyChecks {
		rows, err := q.QueryxContext(ctx, c.sql, communityID)
		if err != nil {
			return res, fmt.Errorf("fund: verify %s: %w", c.name, err)
		}
		for rows.Next() {
			var ids []string
			var detail string
			if err := rows.Scan(pq.Array(&ids), &detail); err != nil {
				rows.Close()
				return res, fmt.Errorf("fund: verify %s: %w", c.name, err)
			}
			if ids == nil {
				ids = []string{}
			}
			res.Violations = append(res.Violations, Violation{Check: c.name, Detail: detail, IDs: ids})
			res.Problems = append(res.Problems, c.name+": "+detail)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return res, fmt.Errorf("fund: verify %s: %w", c.name, err)
		}
		rows.Close()
	}
	res.OK = len(res.Violations) == 0
	return res, nil
}

// VerifyAllIn runs VerifyIn for every community on q (one snapshot when q is
// a REPEATABLE READ transaction); the results by community id.
func (l *Ledger) VerifyAllIn(ctx context.Context, q sqlx.QueryerContext) (map[string]VerifyReport, error) {
	var ids []string
	if err := sqlx.SelectContext(ctx, q, &ids, `SELECT id FROM communities ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("fund: communities: %w", err)
	}
	out := make(map[string]VerifyReport, len(ids))
	for _, id := range ids {
		v, err := l.VerifyIn(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, nil
}

// VerifyAll verifies every community that has a ledger (for `shelin ledger
// verify`) in one snapshot; it returns the results by community id.
func (l *Ledger) VerifyAll(ctx context.Context) (map[string]VerifyResult, error) {
	var out map[string]VerifyResult
	err := l.inSnapshot(ctx, func(tx *sqlx.Tx) (err error) {
		out, err = l.VerifyAllIn(ctx, tx)
		return err
	})
	return out, err
}

// inSnapshot runs fn in a REPEATABLE READ READ ONLY transaction.
func (l *Ledger) inSnapshot(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := l.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("fund: begin snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to undo
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
