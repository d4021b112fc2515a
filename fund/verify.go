package fund

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// VerifyResult is what Verify found: OK when there are no problems.
type VerifyResult struct {
	OK       bool     `json:"ok"`
	Entries  int      `json:"entries"`
	Problems []string `json:"problems"`
}

// verifyChecks are queries that return one row per problem, as text.
var verifyChecks = []struct{ name, sql string }{
	{"entry does not balance", `
		SELECT e.id::text || ': ' || count(p.id) || ' postings sum to ' || COALESCE(sum(p.amount), 0)
		FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id
		WHERE e.community_id = $1
		GROUP BY e.id HAVING COALESCE(sum(p.amount), 0) <> 0 OR count(p.id) < 2`},
	{"posting to another community's account", `
		SELECT e.id::text FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
		JOIN ledger_accounts a ON a.id = p.account_id
		WHERE e.community_id = $1 AND a.community_id <> $1`},
	{"account balance differs from the sum of its postings", `
		SELECT a.kind || ':' || a.key || ' stored ' || a.balance || ', postings ' || COALESCE(s.total, 0)
		FROM ledger_accounts a
		LEFT JOIN (SELECT p.account_id, sum(p.amount) AS total FROM ledger_postings p
		           JOIN ledger_accounts x ON x.id = p.account_id WHERE x.community_id = $1 GROUP BY p.account_id) s ON s.account_id = a.id
		WHERE a.community_id = $1 AND a.balance <> COALESCE(s.total, 0)`},
	{"lot not conserved", `
		SELECT l.id::text || ': original ' || l.original || ' <> remaining ' || l.remaining || ' + allocated ' || l.allocated || ' + reversed ' || l.reversed
		FROM fund_lots l WHERE l.community_id = $1 AND l.original <> l.remaining + l.allocated + l.reversed`},
	{"lot allocations differ from the lot's allocated amount", `
		SELECT l.id::text || ': allocated ' || l.allocated || ', allocations ' || COALESCE(s.total, 0)
		FROM fund_lots l
		LEFT JOIN (SELECT lot_id, sum(amount) AS total FROM fund_lot_allocations WHERE community_id = $1 GROUP BY lot_id) s ON s.lot_id = l.id
		WHERE l.community_id = $1 AND l.allocated <> COALESCE(s.total, 0)`},
	{"earmark account differs from the money left in its lots", `
		SELECT COALESCE(a.key, l.earmark) || ': account ' || COALESCE(-a.balance, 0) || ', lots ' || COALESCE(l.total, 0)
		FROM (SELECT key, balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_earmark') a
		FULL JOIN (SELECT earmark, sum(remaining) AS total FROM fund_lots WHERE community_id = $1 GROUP BY earmark) l
		  ON l.earmark = a.key
		WHERE COALESCE(-a.balance, 0) <> COALESCE(l.total, 0)`},
	{"deficit account differs from the lots' deficits", `
		SELECT 'account ' || COALESCE((SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_deficit'), 0)
		    || ', lots ' || COALESCE((SELECT sum(deficit) FROM fund_lots WHERE community_id = $1), 0)
		WHERE COALESCE((SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_deficit'), 0)
		   <> COALESCE((SELECT sum(deficit) FROM fund_lots WHERE community_id = $1), 0)`},
	{"proceeds' net differs from its lots", `
		SELECT p.source_kind || ' ' || p.source_id || ': net ' || (p.net - p.reversed_net) || ', lots ' || COALESCE(s.total, 0)
		FROM fund_proceeds p
		LEFT JOIN (SELECT entry_id, sum(original - reversed - deficit) AS total FROM fund_lots WHERE community_id = $1 GROUP BY entry_id) s ON s.entry_id = p.entry_id
		WHERE p.community_id = $1 AND p.net - p.reversed_net <> COALESCE(s.total, 0)`},
	{"project's fund part differs from its lot allocations", `
		SELECT p.title || ': committed ' || p.fund_committed || ', allocations ' || COALESCE(s.total, 0)
		FROM fund_projects p
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_lot_allocations WHERE community_id = $1 GROUP BY project_id) s ON s.project_id = p.id
		WHERE p.community_id = $1 AND p.fund_committed <> COALESCE(s.total, 0)`},
	{"project account differs from committed + crowdfunded − disbursed", `
		SELECT p.title || ': account ' || COALESCE(-a.balance, 0) || ', expected ' || (p.fund_committed + p.crowdfunded - p.disbursed)
		FROM fund_projects p
		LEFT JOIN ledger_accounts a ON a.community_id = p.community_id AND a.kind = 'project' AND a.key = p.id::text
		WHERE p.community_id = $1 AND COALESCE(-a.balance, 0) <> p.fund_committed + p.crowdfunded - p.disbursed`},
	{"project contributions or disbursements differ from their records", `
		SELECT p.title || ': crowdfunded ' || p.crowdfunded || '/' || COALESCE(c.total, 0) || ', disbursed ' || p.disbursed || '/' || COALESCE(d.total, 0)
		FROM fund_projects p
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_contributions WHERE community_id = $1 GROUP BY project_id) c ON c.project_id = p.id
		LEFT JOIN (SELECT project_id, sum(amount) AS total FROM fund_disbursements WHERE community_id = $1 GROUP BY project_id) d ON d.project_id = p.id
		WHERE p.community_id = $1 AND (p.crowdfunded <> COALESCE(c.total, 0) OR p.disbursed <> COALESCE(d.total, 0))`},
}

// Verify proves the community's ledger sound: every entry balances, every
// stored balance equals the sum of its postings, lots are conserved and agree
// with the earmark accounts, and projects agree with their records.
func (l *Ledger) Verify(ctx context.Context, communityID string) (VerifyResult, error) {
	return VerifyWith(ctx, l.db, communityID)
}

// VerifyWith is Verify on any queryer (a transaction, for example).
func VerifyWith(ctx context.Context, q sqlx.QueryerContext, communityID string) (VerifyResult, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return VerifyResult{}, err
	}
	res := VerifyResult{Problems: []string{}}
	if err := sqlx.GetContext(ctx, q, &res.Entries, `SELECT count(*) FROM ledger_entries WHERE community_id = $1`, communityID); err != nil {
		return res, fmt.Errorf("fund: verify: %w", err)
	}
	for _, c := range verifyChecks {
		var rows []string
		if err := sqlx.SelectContext(ctx, q, &rows, c.sql, communityID); err != nil {
			return res, fmt.Errorf("fund: verify %s: %w", c.name, err)
		}
		for _, r := range rows {
			res.Problems = append(res.Problems, c.name+": "+r)
		}
	}
	res.OK = len(res.Problems) == 0
	return res, nil
}

// VerifyAll verifies every community that has a ledger (for `shelin ledger
// verify`); it returns the results by community id.
func (l *Ledger) VerifyAll(ctx context.Context) (map[string]VerifyResult, error) {
	var ids []string
	if err := l.db.SelectContext(ctx, &ids, `SELECT id FROM communities ORDER BY created_at`); err != nil {
		return nil, err
	}
	out := make(map[string]VerifyResult, len(ids))
	for _, id := range ids {
		v, err := l.Verify(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, nil
}
