package fund

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Summary is the fund at a glance.
//
//	inflow  = Σ net proceeds after refunds (sales, group-buys, donations)
//	balance = available (uncommitted lots) + committed (promised to projects, not yet paid out)
//	inflow  = balance + outflow − deficit
type Summary struct {
	Balance      money.Amount  `json:"balance"`
	Available    money.Amount  `json:"available"`
	Committed    money.Amount  `json:"committed"`
	Deficit      money.Amount  `json:"deficit"`
	Earmarks     []EarmarkPart `json:"-"`
	InflowTotal  money.Amount  `json:"inflow_total"`
	OutflowTotal money.Amount  `json:"outflow_total"`
	RulesVersion int           `json:"rules_version"`
}

// FundSummary returns the fund's balance, earmarks and totals, simulated
// (sandbox) money included: the treasurer's view.
func (l *Ledger) FundSummary(ctx context.Context, q sqlx.QueryerContext, communityID string) (Summary, error) {
	return fundSummary(ctx, q, communityID, false)
}

// PublicSummary is FundSummary without simulated (sandbox) money: what the
// public pages show. A project's outflow counts only up to the real money
// allocated to it.
func (l *Ledger) PublicSummary(ctx context.Context, q sqlx.QueryerContext, communityID string) (Summary, error) {
	return fundSummary(ctx, q, communityID, true)
}

// realLots is the lots of a community, only the real ones when $2 is true.
const realLots = `(SELECT l.* FROM fund_lots l JOIN fund_proceeds p ON p.entry_id = l.entry_id
	WHERE l.community_id = $1 AND NOT ($2 AND p.simulated))`

func fundSummary(ctx context.Context, q sqlx.QueryerContext, communityID string, realOnly bool) (Summary, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return Summary{}, err
	}
	var s Summary
	var allocated money.Amount
	err := q.QueryRowxContext(ctx, `
		SELECT COALESCE(sum(remaining), 0) AS available, COALESCE(sum(allocated), 0) AS allocated,
		       COALESCE(sum(deficit), 0) AS deficit, COALESCE(sum(original - reversed - deficit), 0) AS inflow
		FROM `+realLots+` l`, communityID, realOnly).Scan(&s.Available, &allocated, &s.Deficit, &s.InflowTotal)
	if err != nil {
		return Summary{}, fmt.Errorf("fund: summary: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &s.OutflowTotal, `
		SELECT COALESCE(sum(LEAST(pr.disbursed, CASE WHEN $2 THEN COALESCE(r.amount, 0) ELSE pr.fund_committed END)), 0)
		FROM fund_projects pr
		LEFT JOIN (SELECT a.project_id, sum(a.amount) AS amount FROM fund_lot_allocations a JOIN `+realLots+` l ON l.id = a.lot_id
		           GROUP BY a.project_id) r ON r.project_id = pr.id
		WHERE pr.community_id = $1`, communityID, realOnly); err != nil {
		return Summary{}, fmt.Errorf("fund: summary: %w", err)
	}
	s.Committed = allocated.Sub(s.OutflowTotal)
	s.Balance = s.Available.Add(s.Committed)
	rules, err := currentRules(ctx, q, communityID)
	if err != nil {
		return Summary{}, err
	}
	s.RulesVersion = rules.Version
	var rows []struct {
		Earmark string       `db:"earmark"`
		Balance money.Amount `db:"balance"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT earmark, sum(remaining) AS balance FROM `+realLots+` l GROUP BY earmark ORDER BY earmark`, communityID, realOnly); err != nil {
		return Summary{}, err
	}
	have := map[string]money.Amount{}
	for _, r := range rows {
		have[r.Earmark] = r.Balance
	}
	seen := map[string]bool{}
	for _, e := range rules.Earmarks {
		s.Earmarks = append(s.Earmarks, EarmarkPart{Name: e.Name, Amount: have[e.Name]})
		seen[e.Name] = true
	}
	for _, r := range rows {
		if !seen[r.Earmark] {
			s.Earmarks = append(s.Earmarks, EarmarkPart{Name: r.Earmark, Amount: r.Balance})
		}
	}
	return s, nil
}

// Account is a ledger account with its balance in its normal direction.
type Account struct {
	ID      string       `json:"id" db:"id"`
	Kind    string       `json:"kind" db:"kind"`
	Key     string       `json:"key" db:"key"`
	Normal  string       `json:"normal" db:"-"` // "debit" or "credit"
	Balance money.Amount `json:"balance" db:"balance"`
	Stored  money.Amount `json:"-" db:"-"` // Σ postings, debit positive
}

// Accounts lists the community's accounts.
func (l *Ledger) Accounts(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Account, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return nil, err
	}
	out := []Account{}
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT id, kind, key, balance FROM ledger_accounts WHERE community_id = $1 ORDER BY kind, key`, communityID); err != nil {
		return nil, fmt.Errorf("fund: accounts: %w", err)
	}
	for i := range out {
		out[i].Stored = out[i].Balance
		out[i].Normal = "debit"
		if creditNormal[out[i].Kind] {
			out[i].Normal = "credit"
			out[i].Balance = out[i].Balance.Neg()
		}
	}
	return out, nil
}

// Posting is one line of an entry as read back.
type Posting struct {
	AccountID string       `json:"account_id" db:"account_id"`
	Kind      string       `json:"account_kind" db:"kind"`
	Key       string       `json:"account_key" db:"key"`
	Amount    money.Amount `json:"amount" db:"amount"` // debit positive, credit negative
}

// Entry is a ledger entry with its postings.
type Entry struct {
	ID           string    `json:"id" db:"id"`
	Seq          int64     `json:"seq" db:"seq"`
	Kind         string    `json:"kind" db:"kind"`
	SourceKind   string    `json:"source_kind" db:"source_kind"`
	SourceID     string    `json:"source_id" db:"source_id"`
	SourceRef    string    `json:"source_ref" db:"source_ref"`
	Memo         string    `json:"memo" db:"memo"`
	RulesVersion *int      `json:"rules_version" db:"rules_version"`
	At           time.Time `json:"at" db:"at"`
	// Simulated marks sandbox money (posted to provider_clearing:sandbox):
	// it never reached the community and public figures leave it out.
	Simulated bool      `json:"simulated" db:"simulated"`
	Postings  []Posting `json:"postings" db:"-"`
	// FundAmount is the entry's effect on fund earmarks: + money in, − money out.
	FundAmount money.Amount `json:"fund_amount" db:"-"`
}

// EntryFilter narrows a ledger listing. Cursor is the opaque next_cursor of
// the previous page.
type EntryFilter struct {
	From, To time.Time // [From, To)
	Kind     string
	Limit    int
	Cursor   string
	RealOnly bool // leave out simulated (sandbox) entries
}

// Entries lists entries newest first, with their postings.
func (l *Ledger) Entries(ctx context.Context, q sqlx.QueryerContext, communityID string, f EntryFilter) ([]Entry, string, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	var before int64 = 1<<63 - 1
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", apperr.Field("cursor", "the cursor is not one this server gave out")
		}
		before = n
	}
	args := []any{communityID, before, f.Limit + 1}
	where := `community_id = $1 AND seq < $2`
	if !f.From.IsZero() {
		args = append(args, f.From)
		where += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	if !f.To.IsZero() {
		args = append(args, f.To)
		where += fmt.Sprintf(` AND at < $%d`, len(args))
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		where += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	entries := []Entry{}
	if f.RealOnly {
		where += ` AND NOT simulated`
	}
	if err := sqlx.SelectContext(ctx, q, &entries, `SELECT id, seq, kind, source_kind, source_id, source_ref, memo, rules_version, at, simulated
		FROM ledger_entries WHERE `+where+` ORDER BY seq DESC LIMIT $3`, args...); err != nil {
		return nil, "", fmt.Errorf("fund: entries: %w", err)
	}
	next := ""
	if len(entries) > f.Limit {
		entries = entries[:f.Limit]
		next = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	if err := attachPostings(ctx, q, entries); err != nil {
		return nil, "", err
	}
	return entries, next, nil
}

func attachPostings(ctx context.Context, q sqlx.QueryerContext, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	ids := make([]string, len(entries))
	idx := map[string]int{}
	for i, e := range entries {
		ids[i] = e.ID
		idx[e.ID] = i
	}
	var ps []struct {
		EntryID string `db:"entry_id"`
		Posting
	}
	if err := sqlx.SelectContext(ctx, q, &ps, `SELECT p.entry_id, p.account_id, a.kind, a.key, p.amount
		FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE p.entry_id = ANY($1::uuid[]) ORDER BY p.id`, pqArray(ids)); err != nil {
		return fmt.Errorf("fund: postings: %w", err)
	}
	for _, p := range ps {
		e := &entries[idx[p.EntryID]]
		e.Postings = append(e.Postings, p.Posting)
		if p.Kind == KindEarmark {
			e.FundAmount = e.FundAmount.Sub(p.Amount)
		}
	}
	return nil
}

// LotTrace is one lot of a source and where its money went.
type LotTrace struct {
	ID          string            `json:"id"`
	Earmark     string            `json:"earmark"`
	Amount      money.Amount      `json:"amount"` // after refunds: original − reversed − deficit
	Original    money.Amount      `json:"original"`
	Remaining   money.Amount      `json:"remaining"`
	Deficit     money.Amount      `json:"deficit"`
	Allocations []AllocationTrace `json:"allocations"`
}

// AllocationTrace is money of a lot committed to a project.
type AllocationTrace struct {
	ProjectID    string       `json:"project_id" db:"project_id"`
	ProjectTitle string       `json:"project_title" db:"title"`
	Amount       money.Amount `json:"amount" db:"amount"`
}

// SourceTrace answers "where did this sale's fund money go": the net
// proceeds after refunds equal the sum of its lots' amounts; each lot's money
// is remaining + allocated − (its deficit).
type SourceTrace struct {
	SourceKind  string       `json:"source_kind"`
	SourceID    string       `json:"source_id"`
	SourceRef   string       `json:"source_ref"`
	At          time.Time    `json:"at"`
	Gross       money.Amount `json:"gross"`
	NetProceeds money.Amount `json:"net_proceeds"`
	Deficit     money.Amount `json:"deficit"`
	// WriteOff is what refunds of this source booked to fund_deficit beyond
	// the fund's share (goods not returned).
	WriteOff  money.Amount `json:"write_off"`
	Simulated bool         `json:"simulated"` // sandbox money, not real
	Lots      []LotTrace   `json:"lots"`
}

// TraceSource follows a sale (or group-buy, donation) into lots and projects.
func (l *Ledger) TraceSource(ctx context.Context, q sqlx.QueryerContext, communityID, sourceKind, sourceID string) (SourceTrace, error) {
	if !isUUID(communityID) {
		return SourceTrace{}, apperr.NotFoundf("community not found")
	}
	var pr struct {
		EntryID     string       `db:"entry_id"`
		SourceRef   string       `db:"source_ref"`
		At          time.Time    `db:"at"`
		Gross       money.Amount `db:"gross"`
		Net         money.Amount `db:"net"`
		ReversedNet money.Amount `db:"reversed_net"`
		Simulated   bool         `db:"simulated"`
		WriteOff    money.Amount `db:"write_off"`
	}
	err := sqlx.GetContext(ctx, q, &pr, `SELECT entry_id, source_ref, at, gross, net, reversed_net, simulated,
			(SELECT COALESCE(sum(write_off), 0) FROM fund_reversals r WHERE r.proceeds_entry_id = p.entry_id) AS write_off
		FROM fund_proceeds p
		WHERE community_id = $1 AND source_kind = $2 AND source_id = $3`, communityID, sourceKind, sourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return SourceTrace{}, apperr.NotFoundf("no fund money from this %s", sourceKind)
	}
	if err != nil {
		return SourceTrace{}, fmt.Errorf("fund: trace: %w", err)
	}
	t := SourceTrace{SourceKind: sourceKind, SourceID: sourceID, SourceRef: pr.SourceRef, At: pr.At, Gross: pr.Gross,
		NetProceeds: pr.Net.Sub(pr.ReversedNet), WriteOff: pr.WriteOff, Simulated: pr.Simulated, Lots: []LotTrace{}}
	var lots []struct {
		ID        string       `db:"id"`
		Earmark   string       `db:"earmark"`
		Original  money.Amount `db:"original"`
		Remaining money.Amount `db:"remaining"`
		Reversed  money.Amount `db:"reversed"`
		Deficit   money.Amount `db:"deficit"`
	}
	if err := sqlx.SelectContext(ctx, q, &lots, `SELECT id, earmark, original, remaining, reversed, deficit FROM fund_lots WHERE entry_id = $1 ORDER BY seq`, pr.EntryID); err != nil {
		return SourceTrace{}, err
	}
	for _, lt := range lots {
		lt2 := LotTrace{ID: lt.ID, Earmark: lt.Earmark, Original: lt.Original, Amount: lt.Original.Sub(lt.Reversed).Sub(lt.Deficit),
			Remaining: lt.Remaining, Deficit: lt.Deficit, Allocations: []AllocationTrace{}}
		if err := sqlx.SelectContext(ctx, q, &lt2.Allocations, `SELECT a.project_id, p.title, sum(a.amount) AS amount
			FROM fund_lot_allocations a JOIN fund_projects p ON p.id = a.project_id
			WHERE a.lot_id = $1 GROUP BY a.project_id, p.title ORDER BY min(a.id)`, lt.ID); err != nil {
			return SourceTrace{}, err
		}
		t.Deficit = t.Deficit.Add(lt.Deficit)
		t.Lots = append(t.Lots, lt2)
	}
	return t, nil
}

// SourcePart is money from one source in a project.
type SourcePart struct {
	Kind   string       `json:"kind" db:"source_kind"`
	ID     string       `json:"id" db:"source_id"`
	Ref    string       `json:"ref" db:"source_ref"`
	Amount money.Amount `json:"amount" db:"amount"`
}

// ProjectTrace answers "where did this project's money come from": from_fund
// equals the sum of the lot allocations, listed by source.
type ProjectTrace struct {
	ProjectID     string       `json:"project_id"`
	Title         string       `json:"title"`
	FromFund      money.Amount `json:"from_fund"`
	FromResidents money.Amount `json:"from_residents"`
	Disbursed     money.Amount `json:"disbursed"`
	Sources       []SourcePart `json:"sources"`
	Contributions int          `json:"contributions"`
}

// TraceProject follows a project's fund part back to its sources.
func (l *Ledger) TraceProject(ctx context.Context, q sqlx.QueryerContext, communityID, projectID string) (ProjectTrace, error) {
	p, err := getProject(ctx, q, communityID, projectID, false)
	if err != nil {
		return ProjectTrace{}, err
	}
	t := ProjectTrace{ProjectID: p.ID, Title: p.Title, FromResidents: p.Crowdfunded, Disbursed: p.Disbursed, Sources: []SourcePart{}}
	if err := sqlx.SelectContext(ctx, q, &t.Sources, `
		SELECT l.source_kind, l.source_id, pr.source_ref, sum(a.amount) AS amount
		FROM fund_lot_allocations a JOIN fund_lots l ON l.id = a.lot_id JOIN fund_proceeds pr ON pr.entry_id = l.entry_id
		WHERE a.project_id = $1 GROUP BY l.source_kind, l.source_id, pr.source_ref ORDER BY min(l.seq)`, p.ID); err != nil {
		return ProjectTrace{}, fmt.Errorf("fund: trace project: %w", err)
	}
	for _, s := range t.Sources {
		t.FromFund = t.FromFund.Add(s.Amount)
	}
	if err := sqlx.GetContext(ctx, q, &t.Contributions, `SELECT count(*) FROM fund_contributions WHERE project_id = $1`, p.ID); err != nil {
		return ProjectTrace{}, err
	}
	return t, nil
}
