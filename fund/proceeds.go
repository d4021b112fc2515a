package fund

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// debitKinds are where a source's money may arrive: a drawer, provider
// clearing, the bank, group-buy escrow, residents' collected money (a cash
// donation handed to the 邻长) and suspense (a payment held as owed to the
// customer that the treasurer later completes as a sale).
var debitKinds = map[string]bool{KindCashDrawer: true, KindProviderClearing: true, KindBank: true, KindGroupBuyEscrow: true,
	KindContributions: true, KindRefundsPayable: true}

// refundKinds are where a refund may be paid from: a drawer, provider
// clearing, the bank, group-buy escrow, or suspense (a provider refund waiting
// for the provider's confirmation is owed to the customer).
var refundKinds = map[string]bool{KindCashDrawer: true, KindProviderClearing: true, KindBank: true, KindGroupBuyEscrow: true,
	KindRefundsPayable: true}

func validSourceKind(k string) bool {
	return k == SourceSale || k == SourceGroupBuy || k == SourceDonation
}

func (p *Proceeds) validate() (money.Amount, error) {
	if !isUUID(p.CommunityID) {
		return money.Zero, apperr.NotFoundf("community not found")
	}
	if !validSourceKind(p.SourceKind) {
		return money.Zero, apperr.Field("source_kind", "source kind must be sale, groupbuy or donation")
	}
	if p.SourceID == "" || len(p.SourceID) > 200 {
		return money.Zero, apperr.Field("source_id", "a source id (1–200 characters) is required")
	}
	if !debitKinds[p.DebitAccount.Kind] {
		return money.Zero, apperr.Field("debit_account", "the money must arrive in a cash drawer, provider clearing, bank, group-buy escrow, residents' contributions or suspense (customer refunds payable) account")
	}
	if p.DebitAccount.Kind == KindCashDrawer && !isUUID(p.DebitAccount.Key) {
		return money.Zero, apperr.Field("debit_account", "a cash drawer is named by its location id")
	}
	if !p.Gross.IsPositive() {
		return money.Zero, apperr.Field("gross", "gross must be greater than zero")
	}
	for f, a := range map[string]money.Amount{"supplier_cost": p.SupplierCost, "maker_share": p.MakerShare, "provider_fee": p.ProviderFee} {
		if a.IsNegative() {
			return money.Zero, apperr.Field(f, "amount must not be negative")
		}
	}
	if len(p.Makers) > 0 {
		sum := money.Zero
		for i, m := range p.Makers {
			if strings.TrimSpace(m.Name) == "" {
				p.Makers[i].Name = "maker" // consigned goods whose maker was not named
			}
			if !m.Amount.IsPositive() {
				return money.Zero, apperr.Field(fmt.Sprintf("makers[%d]", i), "each maker's part must be positive")
			}
			sum = sum.Add(m.Amount)
		}
		if !sum.Equal(p.MakerShare) {
			return money.Zero, apperr.Field("makers", "the makers' parts (%s) must add up to the maker share (%s)", sum, p.MakerShare)
		}
	}
	net := p.Gross.Sub(p.SupplierCost).Sub(p.MakerShare).Sub(p.ProviderFee)
	if net.IsNegative() {
		return money.Zero, apperr.Field("gross", "cost, maker share and fee (%s) exceed the gross amount (%s)",
			money.Sum(p.SupplierCost, p.MakerShare, p.ProviderFee), p.Gross)
	}
	return net, nil
}

// PostProceeds posts one source's money in the caller's transaction: the
// gross to the debit account, cost, makers' shares and provider fee to their
// accounts, and the net proceeds to the fund, split into earmarks by the
// community's current rules with the largest-remainder method. Each earmark
// part becomes a fund lot tied to the source.
//
// It is idempotent per (community, SourceKind, SourceID): posting the same
// source again with the same amounts and debit account returns the first
// result and writes nothing; with other amounts it is an
// apperr.IdempotencyConflict.
//
// Money that arrives in provider_clearing:sandbox is simulated: the entry and
// the proceeds are marked, and public figures leave them out.
func (l *Ledger) PostProceeds(ctx context.Context, tx *sqlx.Tx, p Proceeds) (Posted, error) {
	net, err := p.validate()
	if err != nil {
		return Posted{}, err
	}
	if prev, ok, err := replayProceeds(ctx, tx, p); err != nil || ok {
		return prev, err
	}
	rules, err := currentRules(ctx, tx, p.CommunityID)
	if err != nil {
		return Posted{}, err
	}
	names := make([]string, 0, len(rules.Earmarks))
	weights := make([]decimal.Decimal, 0, len(rules.Earmarks))
	if p.Earmark != "" {
		ok := p.Earmark == General
		for _, e := range rules.Earmarks {
			ok = ok || e.Name == p.Earmark
		}
		if !ok {
			return Posted{}, apperr.Field("earmark", "earmark %q is not in the community's rules", p.Earmark)
		}
		names = append(names, p.Earmark)
		weights = append(weights, decimal.NewFromInt(1))
	} else {
		for _, e := range rules.Earmarks {
			names = append(names, e.Name)
			weights = append(weights, e.Percent)
		}
	}
	parts := money.Split(net, weights)
	at := p.At
	if at.IsZero() {
		at = time.Now()
	}

	postings := []posting{{p.DebitAccount, p.Gross}, {SupplierPayable(), p.SupplierCost.Neg()}, {ProviderFees(), p.ProviderFee.Neg()}}
	if len(p.Makers) > 0 {
		for _, m := range p.Makers {
			postings = append(postings, posting{MakerPayable(m.Name), m.Amount.Neg()})
		}
	} else {
		postings = append(postings, posting{MakerPayable("maker"), p.MakerShare.Neg()})
	}
	var earmarks []EarmarkPart
	for i, a := range parts {
		if a.IsPositive() {
			postings = append(postings, posting{Earmark(names[i]), a.Neg()})
			earmarks = append(earmarks, EarmarkPart{Name: names[i], Amount: a})
		}
	}
	live := postings[:0]
	for _, ps := range postings {
		if !ps.amount.IsZero() {
			live = append(live, ps)
		}
	}
	refs := make([]AccountRef, len(live))
	for i, ps := range live {
		refs[i] = ps.acct
	}
	ids, err := ensureAccounts(ctx, tx, p.CommunityID, refs)
	if err != nil {
		if isFKViolation(err) {
			return Posted{}, apperr.NotFoundf("community not found")
		}
		return Posted{}, err
	}

	acctIDs, amounts, err := mergePostings(ids, live)
	if err != nil {
		return Posted{}, err
	}
	en := make([]string, len(earmarks))
	ea := make([]string, len(earmarks))
	for i, e := range earmarks {
		en[i], ea[i] = e.Name, e.Amount.String()
	}
	// One statement claims the source, writes the entry, its lots and its
	// postings (which update the balances, in account id order). A
	// concurrent posting of the same source waits on the claim and then
	// writes nothing, so every source is posted exactly once.
	token := newToken()
	var entryID string
	err = tx.GetContext(ctx, &entryID, `
		WITH pr AS (
			INSERT INTO fund_proceeds (entry_id, community_id, source_kind, source_id, source_ref, debit_account,
				gross, supplier_cost, maker_share, provider_fee, net, rules_version, at, trace_token, simulated)
			VALUES (gen_random_uuid(), $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$17,$18)
			ON CONFLICT ON CONSTRAINT fund_proceeds_one_per_source DO NOTHING
			RETURNING entry_id
		), e AS (
			INSERT INTO ledger_entries (id, community_id, kind, source_kind, source_id, source_ref, rules_version, at, simulated)
			SELECT entry_id, $1, 'proceeds', $2, $3, $4, $11, $12, $18 FROM pr
			RETURNING id
		), lots AS (
			INSERT INTO fund_lots (community_id, entry_id, earmark, source_kind, source_id, original, remaining, at)
			SELECT $1, e.id, w.e, $2, $3, w.a::numeric, w.a::numeric, $12
			FROM e, unnest($13::text[], $14::text[]) WITH ORDINALITY AS w(e, a, o) ORDER BY o
			RETURNING 1
		), ps AS (
			INSERT INTO ledger_postings (entry_id, account_id, amount)
			SELECT e.id, w.a, w.m::numeric
			FROM e, unnest($15::uuid[], $16::text[]) WITH ORDINALITY AS w(a, m, o) ORDER BY o
			RETURNING 1
		)
		SELECT id FROM e`,
		p.CommunityID, p.SourceKind, p.SourceID, p.SourceRef, ids[p.DebitAccount],
		p.Gross, p.SupplierCost, p.MakerShare, p.ProviderFee, net, rules.Version, at,
		pq.Array(en), pq.Array(ea), pq.Array(acctIDs), pq.Array(amounts), token, isSimulated(live))
	if errors.Is(err, sql.ErrNoRows) {
		// A concurrent posting of the same source won: same rules as a replay.
		prev, ok, err := replayProceeds(ctx, tx, p)
		if err == nil && !ok {
			err = fmt.Errorf("fund: proceeds of %s %s vanished", p.SourceKind, p.SourceID)
		}
		return prev, err
	}
	if err != nil {
		if e := mapPostingError(err, live); apperr.CodeOf(e) != apperr.Internal {
			return Posted{}, e
		}
		return Posted{}, fmt.Errorf("fund: post proceeds: %w", err)
	}
	return Posted{EntryID: entryID, Net: net, Earmarks: earmarks, RulesVersion: rules.Version, TraceToken: token}, nil
}

func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func isFKViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23503"
}

// replayProceeds returns the first posting of p's source when there is one
// (ok) and it carries the same amounts and debit account; an idempotency
// conflict when it does not.
func replayProceeds(ctx context.Context, tx *sqlx.Tx, p Proceeds) (Posted, bool, error) {
	var row struct {
		Gross        money.Amount `db:"gross"`
		SupplierCost money.Amount `db:"supplier_cost"`
		MakerShare   money.Amount `db:"maker_share"`
		ProviderFee  money.Amount `db:"provider_fee"`
		Kind         string       `db:"kind"`
		Key          string       `db:"key"`
	}
	err := tx.GetContext(ctx, &row, `
		SELECT p.gross, p.supplier_cost, p.maker_share, p.provider_fee, a.kind, a.key
		FROM fund_proceeds p JOIN ledger_accounts a ON a.id = p.debit_account
		WHERE p.community_id = $1 AND p.source_kind = $2 AND p.source_id = $3`, p.CommunityID, p.SourceKind, p.SourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, false, nil
	}
	if err != nil {
		return Posted{}, false, fmt.Errorf("fund: read proceeds: %w", err)
	}
	if !row.Gross.Equal(p.Gross) || !row.SupplierCost.Equal(p.SupplierCost) || !row.MakerShare.Equal(p.MakerShare) ||
		!row.ProviderFee.Equal(p.ProviderFee) || (AccountRef{row.Kind, row.Key}) != p.DebitAccount {
		return Posted{}, false, apperr.New(apperr.IdempotencyConflict,
			"%s %s was already posted with other amounts (gross %s, cost %s, makers %s, fee %s, into %s:%s)",
			p.SourceKind, p.SourceID, row.Gross, row.SupplierCost, row.MakerShare, row.ProviderFee, row.Kind, row.Key).WithField("source_id")
	}
	prev, err := readPosted(ctx, tx, p.CommunityID, p.SourceKind, p.SourceID)
	return prev, err == nil, err
}

// readPosted returns a source's fund part after reversals.
func readPosted(ctx context.Context, q sqlx.QueryerContext, communityID, sourceKind, sourceID string) (Posted, error) {
	var row struct {
		EntryID      string       `db:"entry_id"`
		Net          money.Amount `db:"net"`
		ReversedNet  money.Amount `db:"reversed_net"`
		RulesVersion int          `db:"rules_version"`
		TraceToken   string       `db:"trace_token"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT entry_id, net, reversed_net, rules_version, trace_token FROM fund_proceeds
		WHERE community_id = $1 AND source_kind = $2 AND source_id = $3`, communityID, sourceKind, sourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, apperr.NotFoundf("%s %s has no fund posting", sourceKind, sourceID)
	}
	if err != nil {
		return Posted{}, fmt.Errorf("fund: read proceeds: %w", err)
	}
	var lots []struct {
		Earmark string       `db:"earmark"`
		Amount  money.Amount `db:"amount"`
		Deficit money.Amount `db:"deficit"`
	}
	if err := sqlx.SelectContext(ctx, q, &lots, `
		SELECT earmark, original - reversed - deficit AS amount, deficit FROM fund_lots
		WHERE entry_id = $1 ORDER BY seq`, row.EntryID); err != nil {
		return Posted{}, fmt.Errorf("fund: read lots: %w", err)
	}
	out := Posted{EntryID: row.EntryID, Net: row.Net.Sub(row.ReversedNet), RulesVersion: row.RulesVersion, TraceToken: row.TraceToken}
	if err := sqlx.GetContext(ctx, q, &out.WriteOff, `SELECT COALESCE(sum(write_off), 0) FROM fund_reversals WHERE proceeds_entry_id = $1`, row.EntryID); err != nil {
		return Posted{}, fmt.Errorf("fund: read write-offs: %w", err)
	}
	for _, l := range lots {
		if l.Amount.IsPositive() {
			out.Earmarks = append(out.Earmarks, EarmarkPart{Name: l.Earmark, Amount: l.Amount})
		}
		out.Deficit = out.Deficit.Add(l.Deficit)
	}
	return out, nil
}

// SaleFund returns what a source (a sale, by its order id) put into the fund,
// after refunds: the net proceeds and their earmarks. Receipts show it.
func (l *Ledger) SaleFund(ctx context.Context, q sqlx.QueryerContext, communityID, sourceKind, sourceID string) (Posted, error) {
	if !isUUID(communityID) {
		return Posted{}, apperr.NotFoundf("community not found")
	}
	return readPosted(ctx, q, communityID, sourceKind, sourceID)
}

type reversalPart struct {
	AccountID string       `json:"account_id"`
	Kind      string       `json:"kind"`
	Key       string       `json:"key"`
	Amount    money.Amount `json:"amount"`  // taken back from this posting (includes deficit)
	Deficit   money.Amount `json:"deficit"` // part of Amount the fund no longer held
}

// ReverseProceeds reverses part of a posted source for a refund, in the
// caller's transaction. The refund is credited to r.CreditAccount (default:
// the account the money arrived in) and debited back to the original credit
// postings: with r.Parts, exactly the named parts (see ReversalParts); without,
// every credit posting pro rata (largest remainder over what each still
// holds, so that refunding the whole gross reverses everything to the cent).
//
// Fund money is taken back from the source's lots. When a lot's money has
// already been committed to a project, the shortfall is recorded as a visible
// deficit (debited to the fund_deficit account and on the lot), never as a
// negative fund balance. A write-off is debited to fund_deficit as well and
// recorded on the reversal.
//
// Idempotent per (community, ReversalID). The returned Posted describes this
// reversal: Net is the fund money it took back, Deficit the part of it that
// had already been spent, WriteOff the loss beyond the fund's share.
func (l *Ledger) ReverseProceeds(ctx context.Context, tx *sqlx.Tx, r Reversal) (Posted, error) {
	if !isUUID(r.CommunityID) {
		return Posted{}, apperr.NotFoundf("community not found")
	}
	if r.ReversalID == "" || len(r.ReversalID) > 200 {
		return Posted{}, apperr.Field("reversal_id", "a reversal id (1–200 characters) is required")
	}
	if !r.Gross.IsPositive() {
		return Posted{}, apperr.Field("amount", "the refunded amount must be greater than zero")
	}
	if r.CreditAccount != (AccountRef{}) && !refundKinds[r.CreditAccount.Kind] {
		return Posted{}, apperr.Field("credit_account", "a refund is paid from a cash drawer, provider clearing, bank, group-buy escrow or suspense (customer refunds payable) account")
	}
	if r.Parts != nil {
		if err := r.Parts.validate(r.Gross); err != nil {
			return Posted{}, err
		}
	}
	if prev, ok, err := readReversal(ctx, tx, r); err != nil || ok {
		return prev, err
	}
	var pr struct {
		EntryID       string       `db:"entry_id"`
		DebitAccount  string       `db:"debit_account"`
		Gross         money.Amount `db:"gross"`
		ReversedGross money.Amount `db:"reversed_gross"`
		RulesVersion  int          `db:"rules_version"`
		DebitKind     string       `db:"kind"`
		DebitKey      string       `db:"key"`
	}
	err := tx.GetContext(ctx, &pr, `
		SELECT p.entry_id, p.debit_account, p.gross, p.reversed_gross, p.rules_version, a.kind, a.key
		FROM fund_proceeds p JOIN ledger_accounts a ON a.id = p.debit_account
		WHERE p.community_id = $1 AND p.source_kind = $2 AND p.source_id = $3
		FOR UPDATE OF p`, r.CommunityID, r.SourceKind, r.SourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, apperr.NotFoundf("%s %s has no fund posting to reverse", r.SourceKind, r.SourceID)
	}
	if err != nil {
		return Posted{}, fmt.Errorf("fund: lock proceeds: %w", err)
	}
	// Another transaction may have recorded this reversal while we waited.
	if prev, ok, err := readReversal(ctx, tx, r); err != nil || ok {
		return prev, err
	}
	left := pr.Gross.Sub(pr.ReversedGross)
	if r.Gross.GreaterThan(left) {
		return Posted{}, apperr.Field("amount", "the refund (%s) is more than what is left to refund (%s)", r.Gross, left)
	}

	orig, err := heldPostings(ctx, tx, pr.EntryID)
	if err != nil {
		return Posted{}, err
	}
	var shares []money.Amount
	writeOff := money.Zero
	if r.Parts == nil {
		weights := make([]decimal.Decimal, len(orig))
		for i, o := range orig {
			weights[i] = o.Held.Decimal()
		}
		shares = money.Split(r.Gross, weights)
	} else {
		if shares, err = r.Parts.shares(orig); err != nil {
			return Posted{}, err
		}
		writeOff = r.Parts.WriteOff
	}

	// Lock the source's lots (in sequence order, like commitments do).
	var lots []struct {
		ID        string       `db:"id"`
		Earmark   string       `db:"earmark"`
		Remaining money.Amount `db:"remaining"`
	}
	if err := tx.SelectContext(ctx, &lots, `SELECT id, earmark, remaining FROM fund_lots WHERE entry_id = $1 ORDER BY seq FOR UPDATE`, pr.EntryID); err != nil {
		return Posted{}, fmt.Errorf("fund: lock lots: %w", err)
	}
	lotOf := map[string]int{}
	for i, lt := range lots {
		lotOf[lt.Earmark] = i
	}

	credit := r.CreditAccount
	if credit == (AccountRef{}) {
		credit = AccountRef{pr.DebitKind, pr.DebitKey}
	}
	postings := []posting{{credit, r.Gross.Neg()}}
	if writeOff.IsPositive() {
		postings = append(postings, posting{FundDeficit(), writeOff})
	}
	parts := make([]reversalPart, 0, len(orig))
	out := Posted{RulesVersion: pr.RulesVersion, WriteOff: writeOff}
	deficitTotal := money.Zero
	type lotChange struct {
		id          string
		back, short money.Amount
	}
	var lotChanges []lotChange
	for i, o := range orig {
		share := shares[i]
		if share.IsZero() {
			continue
		}
		part := reversalPart{AccountID: o.AccountID, Kind: o.Kind, Key: o.Key, Amount: share}
		if o.Kind == KindEarmark {
			li, ok := lotOf[o.Key]
			if !ok {
				return Posted{}, fmt.Errorf("fund: entry %s has no lot for earmark %s", pr.EntryID, o.Key)
			}
			back := money.Min(share, lots[li].Remaining)
			short := share.Sub(back)
			part.Deficit = short
			if back.IsPositive() {
				postings = append(postings, posting{Earmark(o.Key), back})
			}
			if short.IsPositive() {
				postings = append(postings, posting{FundDeficit(), short})
				deficitTotal = deficitTotal.Add(short)
			}
			lotChanges = append(lotChanges, lotChange{lots[li].ID, back, short})
			out.Net = out.Net.Add(share)
			out.Earmarks = append(out.Earmarks, EarmarkPart{Name: o.Key, Amount: share})
		} else {
			postings = append(postings, posting{AccountRef{o.Kind, o.Key}, share})
		}
		parts = append(parts, part)
	}
	out.Deficit = deficitTotal
	at := r.At
	if at.IsZero() {
		at = time.Now()
	}
	entryID, err := writeEntry(ctx, tx, entry{
		communityID: r.CommunityID, kind: "reversal", sourceKind: r.SourceKind, sourceID: r.SourceID,
		sourceRef: r.ReversalID, memo: "refund " + r.ReversalID, at: at, postings: postings,
	})
	if err != nil {
		return Posted{}, err
	}
	for _, lc := range lotChanges {
		if _, err := tx.ExecContext(ctx, `UPDATE fund_lots SET remaining = remaining - $2, reversed = reversed + $2, deficit = deficit + $3 WHERE id = $1`,
			lc.id, lc.back, lc.short); err != nil {
			return Posted{}, fmt.Errorf("fund: reverse lot: %w", err)
		}
	}
	rawParts, err := json.Marshal(parts)
	if err != nil {
		return Posted{}, fmt.Errorf("fund: reversal parts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO fund_reversals (entry_id, community_id, proceeds_entry_id, reversal_id, gross, net, deficit, write_off, parts, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		entryID, r.CommunityID, pr.EntryID, r.ReversalID, r.Gross, out.Net, deficitTotal, writeOff, rawParts, at); err != nil {
		return Posted{}, fmt.Errorf("fund: insert reversal: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_proceeds SET reversed_gross = reversed_gross + $2, reversed_net = reversed_net + $3 WHERE entry_id = $1`,
		pr.EntryID, r.Gross, out.Net); err != nil {
		return Posted{}, fmt.Errorf("fund: update proceeds: %w", err)
	}
	out.EntryID = entryID
	return out, nil
}

// heldPosting is one credit posting of a proceeds entry and what it still
// holds after earlier reversals.
type heldPosting struct {
	AccountID string       `db:"account_id"`
	Kind      string       `db:"kind"`
	Key       string       `db:"key"`
	Amount    money.Amount `db:"amount"` // credited by the original entry (positive)
	Held      money.Amount `db:"-"`      // Amount minus what reversals took back
}

// heldPostings reads the credit postings of a proceeds entry and subtracts
// what its reversals have taken back from each.
func heldPostings(ctx context.Context, tx *sqlx.Tx, entryID string) ([]heldPosting, error) {
	var orig []heldPosting
	if err := tx.SelectContext(ctx, &orig, `
		SELECT p.account_id, a.kind, a.key, -p.amount AS amount
		FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE p.entry_id = $1 AND p.amount < 0 ORDER BY p.id`, entryID); err != nil {
		return nil, fmt.Errorf("fund: read postings: %w", err)
	}
	var prevParts []json.RawMessage
	if err := tx.SelectContext(ctx, &prevParts, `SELECT parts FROM fund_reversals WHERE proceeds_entry_id = $1`, entryID); err != nil {
		return nil, fmt.Errorf("fund: read reversals: %w", err)
	}
	taken := map[string]money.Amount{}
	for _, raw := range prevParts {
		var ps []reversalPart
		if err := json.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("fund: reversal parts: %w", err)
		}
		for _, p := range ps {
			taken[p.AccountID] = taken[p.AccountID].Add(p.Amount)
		}
	}
	for i := range orig {
		orig[i].Held = orig[i].Amount.Sub(taken[orig[i].AccountID])
	}
	return orig, nil
}

// validate checks the parts against the refunded gross: none negative, and
// they add up to it exactly.
func (p *ReversalParts) validate(gross money.Amount) error {
	sum := money.Sum(p.SupplierCost, p.ProviderFee, p.Fund, p.WriteOff)
	for f, a := range map[string]money.Amount{"parts.supplier_cost": p.SupplierCost, "parts.provider_fee": p.ProviderFee,
		"parts.fund": p.Fund, "parts.write_off": p.WriteOff} {
		if a.IsNegative() {
			return apperr.Field(f, "a refund part must not be negative")
		}
	}
	for i, m := range p.Makers {
		if m.Amount.IsNegative() {
			return apperr.Field(fmt.Sprintf("parts.makers[%d]", i), "a refund part must not be negative")
		}
		sum = sum.Add(m.Amount)
	}
	if !sum.Equal(gross) {
		return apperr.Field("parts", "the refund's parts (cost %s + makers + fee %s + fund %s + write-off %s = %s) must add up to the refunded amount %s",
			p.SupplierCost, p.ProviderFee, p.Fund, p.WriteOff, sum, gross)
	}
	return nil
}

// shares maps the parts onto the original credit postings: what each gives
// back. The fund part is split over the earmark postings by what each still
// holds (largest remainder). A part larger than what its posting still holds
// is invalid.
func (p *ReversalParts) shares(orig []heldPosting) ([]money.Amount, error) {
	shares := make([]money.Amount, len(orig))
	find := func(kind, key string) int {
		for i, o := range orig {
			if o.Kind == kind && o.Key == key {
				return i
			}
		}
		return -1
	}
	take := func(field, what string, kind, key string, a money.Amount) error {
		if a.IsZero() {
			return nil
		}
		i := find(kind, key)
		held := money.Zero
		if i >= 0 {
			held = orig[i].Held.Sub(shares[i])
		}
		if a.GreaterThan(held) {
			return apperr.Field(field, "the refund takes back %s of %s, but the sale's posting still holds only %s", a.Yuan(), what, held.Yuan())
		}
		shares[i] = shares[i].Add(a)
		return nil
	}
	if err := take("parts.supplier_cost", "supplier cost", KindSupplierPayable, "", p.SupplierCost); err != nil {
		return nil, err
	}
	for i, m := range p.Makers {
		name := m.Name
		if strings.TrimSpace(name) == "" {
			name = "maker"
		}
		if err := take(fmt.Sprintf("parts.makers[%d]", i), "maker "+name+"'s share", KindMakerPayable, name, m.Amount); err != nil {
			return nil, err
		}
	}
	if err := take("parts.provider_fee", "provider fee", KindProviderFees, "", p.ProviderFee); err != nil {
		return nil, err
	}
	if p.Fund.IsPositive() {
		var idx []int
		var weights []decimal.Decimal
		held := money.Zero
		for i, o := range orig {
			if o.Kind == KindEarmark && o.Held.IsPositive() {
				idx = append(idx, i)
				weights = append(weights, o.Held.Decimal())
				held = held.Add(o.Held)
			}
		}
		if p.Fund.GreaterThan(held) {
			return nil, apperr.Field("parts.fund", "the refund takes back %s from the fund, but the sale's fund share still holds only %s", p.Fund.Yuan(), held.Yuan())
		}
		for k, a := range money.Split(p.Fund, weights) {
			shares[idx[k]] = shares[idx[k]].Add(a)
		}
	}
	return shares, nil
}

// readReversal returns the reversal already recorded under r.ReversalID
// (ok), or an idempotency conflict when that id was used for another source
// or another amount.
func readReversal(ctx context.Context, q sqlx.QueryerContext, r Reversal) (Posted, bool, error) {
	communityID, reversalID, sourceKind, sourceID := r.CommunityID, r.ReversalID, r.SourceKind, r.SourceID
	var row struct {
		EntryID      string          `db:"entry_id"`
		Gross        money.Amount    `db:"gross"`
		Net          money.Amount    `db:"net"`
		Deficit      money.Amount    `db:"deficit"`
		WriteOff     money.Amount    `db:"write_off"`
		Parts        json.RawMessage `db:"parts"`
		RulesVersion int             `db:"rules_version"`
		SourceKind   string          `db:"source_kind"`
		SourceID     string          `db:"source_id"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT r.entry_id, r.gross, r.net, r.deficit, r.write_off, r.parts, p.rules_version, p.source_kind, p.source_id
		FROM fund_reversals r JOIN fund_proceeds p ON p.entry_id = r.proceeds_entry_id
		WHERE r.community_id = $1 AND r.reversal_id = $2`, communityID, reversalID)
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, false, nil
	}
	if err != nil {
		return Posted{}, false, fmt.Errorf("fund: read reversal: %w", err)
	}
	if row.SourceKind != sourceKind || row.SourceID != sourceID {
		return Posted{}, false, apperr.New(apperr.IdempotencyConflict, "reversal %s was already used for another source", reversalID).WithField("reversal_id")
	}
	if !row.Gross.Equal(r.Gross) {
		return Posted{}, false, apperr.New(apperr.IdempotencyConflict, "reversal %s was already recorded for %s, not %s", reversalID, row.Gross, r.Gross).WithField("reversal_id")
	}
	var parts []reversalPart
	if err := json.Unmarshal(row.Parts, &parts); err != nil {
		return Posted{}, false, err
	}
	out := Posted{EntryID: row.EntryID, Net: row.Net, Deficit: row.Deficit, WriteOff: row.WriteOff, RulesVersion: row.RulesVersion}
	for _, p := range parts {
		if p.Kind == KindEarmark {
			out.Earmarks = append(out.Earmarks, EarmarkPart{Name: p.Key, Amount: p.Amount})
		}
	}
	return out, true, nil
}

// sortRefs is used by tests and Verify for stable output.
func sortRefs(rs []AccountRef) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Kind != rs[j].Kind {
			return rs[i].Kind < rs[j].Kind
		}
		return rs[i].Key < rs[j].Key
	})
}
