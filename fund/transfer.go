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
	var id string
	err = tx.GetContext(ctx, &id, `
		INSERT INTO ledger_entries (community_id, kind, source_kind, source_id, source_ref, memo, at)
		VALUES ($1, 'transfer', $2, $3, $4, $5, $6)
		ON CONFLICT (community_id, source_kind, source_id) WHERE kind = 'transfer' DO NOTHING
		RETURNING id`, t.CommunityID, t.SourceKind, t.SourceID, t.SourceRef, t.Memo, at)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.GetContext(ctx, &id, `SELECT id FROM ledger_entries WHERE community_id = $1 AND kind = 'transfer' AND source_kind = $2 AND source_id = $3`,
			t.CommunityID, t.SourceKind, t.SourceID)
		return id, err
	}
	if err != nil {
		return "", fmt.Errorf("fund: insert transfer: %w", err)
	}
	acctIDs, amounts, err := mergePostings(ids, []posting{{t.Debit, t.Amount}, {t.Credit, t.Amount.Neg()}})
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO ledger_postings (entry_id, account_id, amount)
		SELECT $1, a, m::numeric FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS w(a, m, o) ORDER BY o`,
		id, pqArray(acctIDs), pqArray(amounts)); err != nil {
		return "", fmt.Errorf("fund: insert postings: %w", err)
	}
	return id, nil
}
