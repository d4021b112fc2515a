package fund

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

var validKinds = map[string]bool{
	KindCashDrawer: true, KindProviderClearing: true, KindBank: true, KindGroupBuyEscrow: true,
	KindSupplierPayable: true, KindMakerPayable: true, KindProviderFees: true, KindEarmark: true,
	KindProject: true, KindContributions: true, KindFundDeficit: true,
	KindRefundsPayable: true, KindCashOverShort: true, KindCashFloat: true,
}

// creditNormal kinds show their balance as the negated stored balance.
var creditNormal = map[string]bool{
	KindGroupBuyEscrow: true, KindSupplierPayable: true, KindMakerPayable: true,
	KindProviderFees: true, KindEarmark: true, KindProject: true,
	KindRefundsPayable: true, KindCashFloat: true,
}

func (r AccountRef) valid() bool { return validKinds[r.Kind] }

// posting is one line of an entry before it is written.
type posting struct {
	acct   AccountRef
	amount money.Amount // debit positive
}

// ensureAccounts returns the ids of the named accounts, creating the missing ones.
func ensureAccounts(ctx context.Context, tx *sqlx.Tx, communityID string, refs []AccountRef) (map[AccountRef]string, error) {
	kinds := make([]string, 0, len(refs))
	keys := make([]string, 0, len(refs))
	seen := map[AccountRef]bool{}
	for _, r := range refs {
		if !r.valid() {
			return nil, apperr.New(apperr.Invalid, "unknown account kind %q", r.Kind)
		}
		if !seen[r] {
			seen[r] = true
			kinds = append(kinds, r.Kind)
			keys = append(keys, r.Key)
		}
	}
	ids := make(map[AccountRef]string, len(kinds))
	load := func() error {
		rows, err := tx.QueryxContext(ctx, `
			SELECT a.id, a.kind, a.key FROM ledger_accounts a
			JOIN unnest($2::text[], $3::text[]) AS w(kind, key) ON a.kind = w.kind AND a.key = w.key
			WHERE a.community_id = $1`, communityID, pq.Array(kinds), pq.Array(keys))
		if err != nil {
			return fmt.Errorf("fund: load accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var r AccountRef
			if err := rows.Scan(&id, &r.Kind, &r.Key); err != nil {
				return err
			}
			ids[r] = id
		}
		return rows.Err()
	}
	if err := load(); err != nil {
		return nil, err
	}
	if len(ids) == len(kinds) {
		return ids, nil
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO ledger_accounts (community_id, kind, key)
		SELECT $1, w.kind, w.key FROM unnest($2::text[], $3::text[]) AS w(kind, key)
		ON CONFLICT (community_id, kind, key) DO NOTHING`, communityID, pq.Array(kinds), pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("fund: create accounts: %w", err)
	}
	if err := load(); err != nil {
		return nil, err
	}
	if len(ids) != len(kinds) {
		return nil, fmt.Errorf("fund: accounts missing after create")
	}
	return ids, nil
}

// entry is a ledger entry to write.
type entry struct {
	simulated    bool   // set by writeEntryWith from its postings
	id           string // optional: preset id
	communityID  string
	kind         string
	sourceKind   string
	sourceID     string
	sourceRef    string
	memo         string
	rulesVersion *int
	at           time.Time
	postings     []posting
}

// writeEntry inserts the entry and its postings. Postings to the same account
// are merged, zero postings dropped, and they are written in account id order
// so that the balance row locks are always taken in the same order.
func writeEntry(ctx context.Context, tx *sqlx.Tx, e entry) (string, error) {
	refs := make([]AccountRef, 0, len(e.postings))
	for _, p := range e.postings {
		refs = append(refs, p.acct)
	}
	ids, err := ensureAccounts(ctx, tx, e.communityID, refs)
	if err != nil {
		return "", err
	}
	return writeEntryWith(ctx, tx, ids, e)
}

// writeEntryWith is writeEntry with the account ids already known.
func writeEntryWith(ctx context.Context, tx *sqlx.Tx, ids map[AccountRef]string, e entry) (string, error) {
	var err error
	acctIDs, amounts, err := mergePostings(ids, e.postings)
	if err != nil {
		return "", err
	}
	if e.at.IsZero() {
		e.at = time.Now()
	}
	if err := checkRealMoney(ctx, tx, ids, e.postings); err != nil {
		return "", err
	}
	e.simulated = isSimulated(e.postings)
	var id string
	if e.id != "" {
		err = tx.GetContext(ctx, &id, `
			INSERT INTO ledger_entries (id, community_id, kind, source_kind, source_id, source_ref, memo, rules_version, at, simulated)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
			e.id, e.communityID, e.kind, e.sourceKind, e.sourceID, e.sourceRef, e.memo, e.rulesVersion, e.at, e.simulated)
	} else {
		err = tx.GetContext(ctx, &id, `
			INSERT INTO ledger_entries (community_id, kind, source_kind, source_id, source_ref, memo, rules_version, at, simulated)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
			e.communityID, e.kind, e.sourceKind, e.sourceID, e.sourceRef, e.memo, e.rulesVersion, e.at, e.simulated)
	}
	if err != nil {
		return "", fmt.Errorf("fund: insert entry: %w", err)
	}
	if err := insertPostings(ctx, tx, id, acctIDs, amounts, e.postings); err != nil {
		return "", err
	}
	return id, nil
}

// insertPostings writes an entry's merged postings (in account id order) and
// turns the database's refusals into errors people can act on.
func insertPostings(ctx context.Context, tx *sqlx.Tx, entryID string, acctIDs, amounts []string, postings []posting) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO ledger_postings (entry_id, account_id, amount)
		SELECT $1, a, m::numeric FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS w(a, m, o) ORDER BY o`,
		entryID, pq.Array(acctIDs), pq.Array(amounts)); err != nil {
		return mapPostingError(err, postings)
	}
	return nil
}

// mapPostingError maps the balance constraints of ledger_accounts to
// conflicts; anything else is an internal error.
func mapPostingError(err error, postings []posting) error {
	if isOverdraw(err) {
		return apperr.Conflictf("the fund or project does not hold enough money for this").Say("err.overdraw.fund")
	}
	if isRealMoneyOverdraw(err) {
		// A concurrent payment took the money between the check and the
		// write: name the account without figures we no longer know.
		oe := &OverdrawError{}
		for _, p := range postings {
			if realMoney[p.acct.Kind] && p.amount.IsNegative() {
				oe.Account, oe.Wants = p.acct, p.amount.Neg()
			}
		}
		oe.err = apperr.Conflictf("%s does not hold enough money to pay %s", accountName(oe.Account), oe.Wants.Yuan()).
			Say("err.overdraw."+oe.Account.Kind+".short", oe.Wants.Yuan())
		return oe
	}
	return fmt.Errorf("fund: insert postings: %w", err)
}

func isOverdraw(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23514" && strings.Contains(pe.Constraint, "no_overdraw")
}

func isRealMoneyOverdraw(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23514" && pe.Constraint == "ledger_accounts_real_money_nonnegative"
}

// realMoney are the account kinds that hold money that exists in the world
// and so can never be negative (a CHECK on ledger_accounts): a bank account
// cannot pay what it does not hold, nor a cash drawer.
var realMoney = map[string]bool{KindBank: true, KindCashDrawer: true}

// OverdrawError is the conflict of a payment out of a bank account or cash
// drawer that does not hold the money. apperr.Is(err, apperr.Conflict) holds
// for it; IsOverdraw finds it.
type OverdrawError struct {
	Account AccountRef
	Holds   money.Amount // what the account held when checked
	Wants   money.Amount // what the payment needed
	err     *apperr.Error
}

func (e *OverdrawError) Error() string { return e.err.Error() }
func (e *OverdrawError) Unwrap() error { return e.err }

// IsOverdraw reports whether err is a refusal to take a bank account or a
// cash drawer below zero.
func IsOverdraw(err error) bool {
	var oe *OverdrawError
	return errors.As(err, &oe)
}

// accountName is how an account is named in messages.
func accountName(a AccountRef) string {
	switch a.Kind {
	case KindBank:
		return "the bank account"
	case KindCashDrawer:
		return "the cash drawer of stall " + a.Key
	}
	return a.Kind + ":" + a.Key
}

// checkRealMoney refuses, with the figures, postings that would take a bank
// account or cash drawer below zero. The CHECK constraint is the guarantee
// (it also catches a concurrent payment); this gives the plain message.
func checkRealMoney(ctx context.Context, q sqlx.QueryerContext, ids map[AccountRef]string, postings []posting) error {
	net := map[AccountRef]money.Amount{}
	for _, p := range postings {
		if realMoney[p.acct.Kind] {
			net[p.acct] = net[p.acct].Add(p.amount)
		}
	}
	for ref, amt := range net {
		if !amt.IsNegative() {
			continue
		}
		var bal money.Amount
		if err := sqlx.GetContext(ctx, q, &bal, `SELECT balance FROM ledger_accounts WHERE id = $1`, ids[ref]); err != nil {
			return fmt.Errorf("fund: read balance: %w", err)
		}
		if bal.Add(amt).IsNegative() {
			return &OverdrawError{Account: ref, Holds: bal, Wants: amt.Neg(),
				err: apperr.Conflictf("%s holds %s; it cannot pay %s", accountName(ref), bal.Yuan(), amt.Neg().Yuan()).
					Say("err.overdraw."+ref.Kind, bal.Yuan(), amt.Neg().Yuan())}
		}
	}
	return nil
}

// SandboxProvider is the simulated payment provider: money that arrives in or
// leaves provider_clearing:sandbox is not real.
const SandboxProvider = "sandbox"

// isSimulated reports whether postings move simulated money.
func isSimulated(postings []posting) bool {
	for _, p := range postings {
		if p.acct == ProviderClearing(SandboxProvider) && !p.amount.IsZero() {
			return true
		}
	}
	return false
}

// checkCommunity returns not_found when the community does not exist.
func checkCommunity(ctx context.Context, q sqlx.QueryerContext, communityID string) error {
	if !isUUID(communityID) {
		return apperr.NotFoundf("community not found")
	}
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM communities WHERE id = $1)`, communityID); err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf("community not found")
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func pqArray(a []string) any { return pq.Array(a) }

// mergePostings merges postings to the same account, drops zero ones, checks
// the balance and orders them by account id (the lock order of balances).
func mergePostings(ids map[AccountRef]string, postings []posting) ([]string, []string, error) {
	byID := map[string]money.Amount{}
	total := money.Zero
	for _, p := range postings {
		byID[ids[p.acct]] = byID[ids[p.acct]].Add(p.amount)
		total = total.Add(p.amount)
	}
	if !total.IsZero() {
		return nil, nil, fmt.Errorf("fund: entry does not balance (%s)", total)
	}
	acctIDs := make([]string, 0, len(byID))
	for id, a := range byID {
		if !a.IsZero() {
			acctIDs = append(acctIDs, id)
		}
	}
	if len(acctIDs) < 2 {
		return nil, nil, apperr.New(apperr.Invalid, "nothing to post: the amounts are zero")
	}
	sort.Strings(acctIDs)
	amounts := make([]string, len(acctIDs))
	for i, id := range acctIDs {
		amounts[i] = byID[id].String()
	}
	return acctIDs, amounts, nil
}
