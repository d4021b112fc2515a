package fund

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Transfer moves money between two non-fund accounts, for the steps around
// a sale that are not proceeds: a group-buy join paid into escrow
// (Debit: ProviderClearing, Credit: GroupBuyEscrow), a failed group-buy
// refunded (Debit: GroupBuyEscrow, Credit: ProviderClearing), a provider's
// settlement to the bank (Debit: Bank, Credit: ProviderClearing), a supplier
// paid (Debit: SupplierPayable, Credit: Bank).
//
// Fund earmarks and projects are not allowed here: fund money moves only by
// proceeds, refunds, commitments, contributions and disbursements.
type Transfer struct {
	CommunityID string
	SourceKind  string // what happened, e.g. "groupbuy_join_paid"; with SourceID unique
	SourceID    string // the same (SourceKind, SourceID) again writes nothing
	SourceRef   string
	Debit       AccountRef
	Credit      AccountRef
	Amount      money.Amount
	Memo        string
	At          time.Time
}

// PostTransfer writes a two-posting entry in the caller's transaction and
// returns its id; a repeat of the same source returns the first entry's id.
func (l *Ledger) PostTransfer(ctx context.Context, tx *sqlx.Tx, t Transfer) (string, error) {
	if !isUUID(t.CommunityID) {
		return "", apperr.NotFoundf("community not found")
	}
	if t.SourceKind == "" || len(t.SourceKind) > 60 || t.SourceID == "" || len(t.SourceID) > 200 {
		return "", apperr.Field("source_id", "a transfer needs a source kind and id")
	}
	for f, r := range map[string]AccountRef{"debit": t.Debit, "credit": t.Credit} {
		if !r.valid() || r.Kind == KindEarmark || r.Kind == KindProject || r.Kind == KindFundDeficit {
			return "", apperr.Field(f, "a transfer moves money between drawers, clearing, bank, escrow and payables, not fund money")
		}
	}
	if t.Debit == t.Credit {
		return "", apperr.Field("credit", "debit and credit are the same account")
	}
	if !t.Amount.IsPositive() {
		return "", apperr.Field("amount", "the amount must be greater than zero")
	}
	at := t.At
	if at.IsZero() {
		at = time.Now()
	}
	ids, err := ensureAccounts(ctx, tx, t.CommunityID, []AccountRef{t.Debit, t.Credit})
	if err != nil {
		if isFKViolation(err) {
			return "", apperr.NotFoundf("community not found")
		}
		return "", err
	}
	postings := []posting{{t.Debit, t.Amount}, {t.Credit, t.Amount.Neg()}}
	acctIDs, amounts, err := mergePostings(ids, postings)
	if err != nil {
		return "", err
	}
	// A replay returns the first entry when it carries the same accounts and
	// amount, and is refused when it does not.
	if id, ok, err := sameTransfer(ctx, tx, t, acctIDs, amounts); err != nil || ok {
		return id, err
	}
	if err := checkRealMoney(ctx, tx, ids, postings); err != nil {
		return "", err
	}
	var id string
	err = tx.GetContext(ctx, &id, `
		INSERT INTO ledger_entries (community_id, kind, source_kind, source_id, source_ref, memo, at, simulated)
		VALUES ($1, 'transfer', $2, $3, $4, $5, $6, $7)
		ON CONFLICT (community_id, source_kind, source_id) WHERE kind = 'transfer' DO NOTHING
		RETURNING id`, t.CommunityID, t.SourceKind, t.SourceID, t.SourceRef, t.Memo, at, isSimulated(postings))
	if errors.Is(err, sql.ErrNoRows) {
		// A concurrent transaction wrote the same source while we waited.
		id, ok, err := sameTransfer(ctx, tx, t, acctIDs, amounts)
		if err == nil && !ok {
			err = fmt.Errorf("fund: transfer %s/%s vanished", t.SourceKind, t.SourceID)
		}
		return id, err
	}
	if err != nil {
		return "", fmt.Errorf("fund: insert transfer: %w", err)
	}
	if err := insertPostings(ctx, tx, id, acctIDs, amounts, postings); err != nil {
		return "", err
	}
	return id, nil
}

// sameTransfer looks up a transfer already written for t's source: ok is
// false when there is none; an idempotency conflict when its postings differ
// from acctIDs/amounts (the merged postings of t).
func sameTransfer(ctx context.Context, tx *sqlx.Tx, t Transfer, acctIDs, amounts []string) (string, bool, error) {
	var rows []struct {
		EntryID   string       `db:"entry_id"`
		AccountID string       `db:"account_id"`
		Amount    money.Amount `db:"amount"`
	}
	if err := tx.SelectContext(ctx, &rows, `
		SELECT e.id AS entry_id, p.account_id, p.amount FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
		WHERE e.community_id = $1 AND e.kind = 'transfer' AND e.source_kind = $2 AND e.source_id = $3
		ORDER BY p.account_id`, t.CommunityID, t.SourceKind, t.SourceID); err != nil {
		return "", false, fmt.Errorf("fund: read transfer: %w", err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	same := len(rows) == len(acctIDs)
	for i := 0; same && i < len(rows); i++ {
		same = rows[i].AccountID == acctIDs[i] && rows[i].Amount.String() == money.MustParse(amounts[i]).String()
	}
	if !same {
		return "", false, apperr.New(apperr.IdempotencyConflict,
			"transfer %s %s was already posted with other accounts or another amount", t.SourceKind, t.SourceID).WithField("source_id")
	}
	return rows[0].EntryID, true, nil
}
