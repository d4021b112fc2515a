package reconcile

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// Match results of a statement row.
const (
	Matched         = "matched"
	MissingInShelin = "missing_in_shelin"
	AmountMismatch  = "amount_mismatch"
	StaticMatched   = "static_matched" // a 收款码 sale ticked off against this row
)

// ImportInput is one statement upload (or the scheduled download).
type ImportInput struct {
	CommunityID string
	Provider    string // wechatpay, alipay, sandbox
	Filename    string
	Data        []byte
	Day         string // optional; otherwise the day most rows fall on
	UserID      string // who uploaded it ("" for the scheduled download)
}

// ImportResult is what an import found and did.
type ImportResult struct {
	StatementID string       `json:"id"`
	Day         string       `json:"day"`
	Rows        int          `json:"rows"`
	Matched     int          `json:"matched"`
	Unmatched   int          `json:"unmatched"`
	Settled     money.Amount `json:"settled"`        // credited from provider clearing
	ToBank      money.Amount `json:"to_bank"`        // debited to the bank
	Fees        money.Amount `json:"fees"`           // fees the statement withheld on what it settled
	FeeAdjust   money.Amount `json:"fee_adjustment"` // statement fees − Shelin's estimate
	Replay      bool         `json:"replay,omitempty"`
}

// Settlement is what one settlement batch moved.
type Settlement struct {
	Settled, ToBank, Fees, FeeAdjust money.Amount
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Import parses a statement, matches each row on merchant_ref (payments) or
// the refund number (refunds: refunds.id, or a held payment's suspense id),
// stores the rows with their results, and settles what matched from
// provider clearing to the bank (Dr bank, Dr provider fees / Cr clearing),
// with the difference between the statement's fees and Shelin's estimate
// booked as an adjustment entry. A later upload for the same provider and
// day replaces the earlier one's rows; what was settled stays settled. The
// same file twice is a replay.
func (s *Service) Import(ctx context.Context, in ImportInput) (*ImportResult, error) {
	com, err := s.community(ctx, in.CommunityID)
	if err != nil {
		return nil, err
	}
	if in.Provider != "wechatpay" && in.Provider != "alipay" && in.Provider != "sandbox" {
		return nil, apperr.Field("provider", "the provider is wechatpay, alipay or sandbox")
	}
	if len(in.Data) == 0 {
		return nil, apperr.Field("file", "the statement file is empty")
	}
	loc := com.Location()
	parsed, err := Parse(in.Provider, in.Data, loc)
	if err != nil {
		return nil, err
	}
	day, err := statementDay(in.Day, parsed, loc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(in.Data)
	hash := hex.EncodeToString(sum[:])
	var res *ImportResult
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res = &ImportResult{Day: day.Format("2006-01-02"), Rows: len(parsed.Rows)}
		var prev struct {
			ID  string    `db:"id"`
			Day time.Time `db:"day"`
		}
		err := tx.GetContext(ctx, &prev, `SELECT id, day FROM reconcile_statements WHERE community_id = $1 AND provider = $2 AND sha256 = $3`,
			in.CommunityID, in.Provider, hash)
		if err == nil {
			res.StatementID, res.Replay, res.Day = prev.ID, true, prev.Day.Format("2006-01-02")
			return countResults(ctx, tx, res)
		} else if err != sql.ErrNoRows {
			return err
		}
		if status, _, err := dayStatus(ctx, tx, in.CommunityID, day); err != nil {
			return err
		} else if status == "closed" {
			return apperr.New(apperr.DayClosed, "business day %s is closed: reopen it to import its statement", res.Day)
		}
		pay, ref, fees := parsed.Totals()
		if err := tx.GetContext(ctx, &res.StatementID, `SELECT gen_random_uuid()`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reconcile_statements SET superseded_by = $4
			WHERE community_id = $1 AND provider = $2 AND day = $3 AND superseded_by IS NULL`, in.CommunityID, in.Provider, day, res.StatementID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_statements (id, community_id, provider, day, filename, sha256, rows, payments_total, refunds_total, fees_total, uploaded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, res.StatementID, in.CommunityID, in.Provider, day, truncate(in.Filename, 200), hash,
			len(parsed.Rows), pay, ref, fees, nullUser(in.UserID)); err != nil {
			return fmt.Errorf("reconcile: insert statement: %w", err)
		}
		if err := s.storeRows(ctx, tx, in.CommunityID, in.Provider, res.StatementID, parsed.Rows); err != nil {
			return err
		}
		if len(parsed.Rows) >= 5000 {
			// A big day changes the table's shape: give the planner fresh
			// statistics before the day's anti-joins read it.
			if _, err := tx.ExecContext(ctx, `ANALYZE reconcile_statement_rows`); err != nil {
				return err
			}
		}
		if err := countResults(ctx, tx, res); err != nil {
			return err
		}
		st, err := s.settle(ctx, tx, in.CommunityID, res.StatementID)
		if err != nil {
			return err
		}
		res.Settled, res.ToBank, res.Fees, res.FeeAdjust = st.Settled, st.ToBank, st.Fees, st.FeeAdjust
		return nil
	})
	if err != nil {
		return nil, MapError(err)
	}
	return res, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func nullUser(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// statementDay is the given day, or the day most rows fall on.
func statementDay(given string, p *Parsed, loc *time.Location) (time.Time, error) {
	if given != "" {
		return ParseDay(given)
	}
	count := map[string]int{}
	best := ""
	for _, r := range p.Rows {
		if r.At.IsZero() {
			continue
		}
		d := r.At.In(loc).Format("2006-01-02")
		count[d]++
		if best == "" || count[d] > count[best] || (count[d] == count[best] && d < best) {
			best = d
		}
	}
	if best == "" {
		return time.Time{}, apperr.Field("day", "the statement has no dated rows: say which day it covers")
	}
	return ParseDay(best)
}

func countResults(ctx context.Context, q sqlx.QueryerContext, res *ImportResult) error {
	return sqlx.GetContext(ctx, q, res, `SELECT count(*) AS rows,
		count(*) FILTER (WHERE result IN ('matched','static_matched')) AS matched,
		count(*) FILTER (WHERE result NOT IN ('matched','static_matched')) AS unmatched
		FROM reconcile_statement_rows WHERE statement_id = $1`, res.StatementID)
}

type shelinPayment struct {
	ID          string       `db:"id"`
	MerchantRef string       `db:"merchant_ref"`
	Provider    string       `db:"provider"`
	Status      string       `db:"status"`
	Amount      money.Amount `db:"amount"`
	Fee         money.Amount `db:"fee"`
}

type shelinRefund struct {
	ID       string       `db:"id"`
	Provider string       `db:"provider"`
	Status   string       `db:"status"`
	Amount   money.Amount `db:"amount"`
	Fee      money.Amount `db:"fee"`
}

// storeRows matches rows against payments and refunds and writes them with
// COPY (a day of 100,000 rows is one round trip).
func (s *Service) storeRows(ctx context.Context, tx *sqlx.Tx, cid, provider, statementID string, rows []Row) error {
	refs := make([]string, 0, len(rows))
	var refundIDs []string
	for _, r := range rows {
		if r.Kind == KindPayment {
			refs = append(refs, r.MerchantRef)
		} else if uuidRe.MatchString(r.RefundNo) {
			refundIDs = append(refundIDs, r.RefundNo)
		}
	}
	payments := make(map[string]shelinPayment, len(refs))
	var ps []shelinPayment
	if err := tx.SelectContext(ctx, &ps, `SELECT id, merchant_ref, provider, status, amount, fee FROM payments
		WHERE community_id = $1 AND merchant_ref = ANY($2)`, cid, pq.Array(refs)); err != nil {
		return fmt.Errorf("reconcile: payments of the statement: %w", err)
	}
	for _, p := range ps {
		payments[p.MerchantRef] = p
	}
	refunds := map[string]shelinRefund{}
	if len(refundIDs) > 0 {
		var rs []shelinRefund
		if err := tx.SelectContext(ctx, &rs, `
			SELECT r.id::text AS id, p.provider, r.status, r.amount, COALESCE((SELECT sum(fee) FROM refund_lines rl WHERE rl.refund_id = r.id), 0) AS fee
			FROM refunds r JOIN payments p ON p.id = r.payment_id
			WHERE r.community_id = $1 AND r.id = ANY($2::uuid[])
			UNION ALL
			SELECT s.id::text, p.provider, sr.status, s.amount, 0
			FROM payment_suspense s JOIN suspense_refunds sr ON sr.suspense_id = s.id JOIN payments p ON p.id = s.payment_id
			WHERE s.community_id = $1 AND s.id = ANY($2::uuid[])
			UNION ALL
			SELECT g.id::text, p.provider, g.status, g.amount, 0
			FROM groupbuy_refunds g JOIN groupbuy_joins j ON j.id = g.join_id JOIN payments p ON p.id = j.payment_id
			WHERE g.community_id = $1 AND g.id = ANY($2::uuid[])`, cid, pq.Array(refundIDs)); err != nil {
			return fmt.Errorf("reconcile: refunds of the statement: %w", err)
		}
		for _, r := range rs {
			refunds[r.ID] = r
		}
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("reconcile_statement_rows", "statement_id", "line_no", "community_id", "kind",
		"merchant_ref", "refund_no", "txn_id", "amount", "fee", "at", "result", "expected", "payment_id", "refund_id", "clearing", "est_fee"))
	if err != nil {
		return fmt.Errorf("reconcile: copy rows: %w", err)
	}
	defer stmt.Close()
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		result, expected, paymentID, refundID, clearing, est := MissingInShelin, any(nil), any(nil), any(nil), "", "0"
		if r.Kind == KindPayment {
			if p, ok := payments[r.MerchantRef]; ok && p.Provider == provider && (p.Status == "succeeded" || p.Status == "held") && !seen["p"+p.ID] {
				seen["p"+p.ID] = true
				paymentID, clearing, est = p.ID, p.Provider, p.Fee.String()
				if p.Amount.Equal(r.Amount) {
					result = Matched
				} else {
					result, expected = AmountMismatch, p.Amount.String()
				}
			}
		} else if rf, ok := refunds[r.RefundNo]; ok && rf.Provider == provider && rf.Status == "succeeded" && !seen["r"+rf.ID] {
			seen["r"+rf.ID] = true
			refundID, clearing, est = rf.ID, rf.Provider, rf.Fee.String()
			if rf.Amount.Equal(r.Amount) {
				result = Matched
			} else {
				result, expected = AmountMismatch, rf.Amount.String()
			}
		}
		var at any
		if !r.At.IsZero() {
			at = r.At
		}
		if _, err := stmt.ExecContext(ctx, statementID, i+1, cid, r.Kind, truncate(r.MerchantRef, 64), truncate(r.RefundNo, 64), truncate(r.TxnID, 64),
			r.Amount.String(), r.Fee.String(), at, result, expected, paymentID, refundID, clearing, est); err != nil {
			return fmt.Errorf("reconcile: copy row %d: %w", r.Line, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("reconcile: copy rows: %w", err)
	}
	return nil
}

// settle books, in one batch, every matched row of a statement that has not
// been settled before: per provider clearing account, Dr bank (what the
// provider paid out) and Dr provider fees (what it withheld) / Cr clearing;
// then one adjustment entry for statement fees − Shelin's fee estimates
// (Dr cash over/short / Cr provider fees when the provider took more, the
// reverse when it took less). Never an edit of the sale's entry.
func (s *Service) settle(ctx context.Context, tx *sqlx.Tx, cid, statementID string) (Settlement, error) {
	var out Settlement
	var batch string
	if err := tx.GetContext(ctx, &batch, `SELECT gen_random_uuid()`); err != nil {
		return out, err
	}
	var groups []struct {
		Clearing string       `db:"clearing"`
		Gross    money.Amount `db:"gross"`
		Fees     money.Amount `db:"fees"`
		Est      money.Amount `db:"est"`
	}
	err := tx.SelectContext(ctx, &groups, `
		WITH ins AS (
			INSERT INTO reconcile_settled (community_id, item_kind, item_id, statement_id, batch_id, clearing, amount, fee, est_fee)
			SELECT r.community_id, r.kind, COALESCE(r.payment_id::text, r.refund_id), r.statement_id, $3, r.clearing,
				CASE WHEN r.kind = 'payment' THEN r.amount ELSE -r.amount END,
				CASE WHEN r.kind = 'payment' THEN r.fee ELSE -r.fee END,
				CASE WHEN r.kind = 'payment' THEN r.est_fee ELSE -r.est_fee END
			FROM reconcile_statement_rows r
			WHERE r.statement_id = $2 AND r.community_id = $1 AND r.result IN ('matched','static_matched')
			ON CONFLICT DO NOTHING
			RETURNING clearing, amount, fee, est_fee)
		SELECT clearing, sum(amount) AS gross, sum(fee) AS fees, sum(est_fee) AS est FROM ins GROUP BY clearing ORDER BY clearing`,
		cid, statementID, batch)
	if err != nil {
		return out, fmt.Errorf("reconcile: settle: %w", err)
	}
	var adjust money.Amount
	for _, g := range groups {
		toBank := g.Gross.Sub(g.Fees)
		clearing := fund.ProviderClearing(g.Clearing)
		if err := s.transfer(ctx, tx, cid, "statement_settlement", batch+":"+g.Clearing, statementID, fund.Bank(), clearing, toBank,
			"provider settlement to the bank"); err != nil {
			return out, err
		}
		if err := s.transfer(ctx, tx, cid, "statement_fees", batch+":"+g.Clearing, statementID, fund.ProviderFees(), clearing, g.Fees,
			"fees withheld by the provider"); err != nil {
			return out, err
		}
		out.Settled = out.Settled.Add(g.Gross)
		out.ToBank = out.ToBank.Add(toBank)
		out.Fees = out.Fees.Add(g.Fees)
		adjust = adjust.Add(g.Fees.Sub(g.Est))
	}
	if err := s.transfer(ctx, tx, cid, "statement_fee_adjustment", batch, statementID, fund.CashOverShort(), fund.ProviderFees(), adjust,
		"provider fees per the statement differ from the estimate"); err != nil {
		return out, err
	}
	out.FeeAdjust = adjust
	return out, nil
}

// transfer posts Dr debit / Cr credit for a positive amount, the reverse for
// a negative one, and nothing for zero.
func (s *Service) transfer(ctx context.Context, tx *sqlx.Tx, cid, kind, id, ref string, debit, credit fund.AccountRef, amt money.Amount, memo string) error {
	if amt.IsZero() {
		return nil
	}
	if amt.IsNegative() {
		debit, credit, amt = credit, debit, amt.Neg()
	}
	_, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: kind, SourceID: id, SourceRef: ref,
		Debit: debit, Credit: credit, Amount: amt, Memo: memo, At: s.now()})
	return err
}

// MatchStatic ticks a static-QR (收款码) sale off against a statement row
// that Shelin could not match (the money reached the provider account
// through the fixed code, under the provider's own order number), and
// settles it from the static clearing account to the bank.
func (s *Service) MatchStatic(ctx context.Context, cid, statementID string, line int, paymentID string) (*Settlement, error) {
	var st Settlement
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var row struct {
			Result string       `db:"result"`
			Kind   string       `db:"kind"`
			Amount money.Amount `db:"amount"`
			Super  *string      `db:"superseded_by"`
		}
		err := tx.GetContext(ctx, &row, `SELECT r.result, r.kind, r.amount, s.superseded_by FROM reconcile_statement_rows r
			JOIN reconcile_statements s ON s.id = r.statement_id
			WHERE r.community_id = $1 AND r.statement_id = $2 AND r.line_no = $3 FOR UPDATE OF r`, cid, statementID, line)
		if err == sql.ErrNoRows || !uuidRe.MatchString(statementID) {
			return apperr.NotFoundf("statement row not found")
		} else if err != nil {
			return err
		}
		if row.Super != nil {
			return apperr.Conflictf("this statement was replaced by a later upload")
		}
		var day time.Time
		if err := tx.GetContext(ctx, &day, `SELECT day FROM reconcile_statements WHERE id = $1`, statementID); err != nil {
			return err
		}
		if status, _, err := dayStatus(ctx, tx, cid, day); err != nil {
			return err
		} else if status == "closed" {
			return apperr.New(apperr.DayClosed, "business day %s is closed", day.Format("2006-01-02"))
		}
		if row.Result != MissingInShelin || row.Kind != KindPayment {
			return apperr.Conflictf("only a payment row that Shelin could not match can be ticked off against a 收款码 sale")
		}
		if !uuidRe.MatchString(paymentID) {
			return apperr.Field("payment_id", "no such static-QR sale")
		}
		var p shelinPayment
		err = tx.GetContext(ctx, &p, `SELECT id, merchant_ref, provider, status, amount, fee FROM payments WHERE community_id = $1 AND id = $2 FOR UPDATE`, cid, paymentID)
		if err == sql.ErrNoRows {
			return apperr.Field("payment_id", "no such static-QR sale")
		} else if err != nil {
			return err
		}
		if p.Provider != "static" || p.Status != "succeeded" {
			return apperr.Field("payment_id", "only a confirmed static-QR sale can be ticked off")
		}
		if !p.Amount.Equal(row.Amount) {
			return apperr.Field("payment_id", "the sale is %s, the statement row %s", p.Amount.Yuan(), row.Amount.Yuan())
		}
		var taken int
		if err := tx.GetContext(ctx, &taken, `SELECT count(*) FROM reconcile_statement_rows r JOIN reconcile_statements s ON s.id = r.statement_id
			WHERE r.payment_id = $1 AND s.superseded_by IS NULL`, paymentID); err != nil {
			return err
		}
		if taken > 0 {
			return apperr.Conflictf("this sale is already ticked off")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reconcile_statement_rows SET result = 'static_matched', payment_id = $4, clearing = 'static', est_fee = $5
			WHERE community_id = $1 AND statement_id = $2 AND line_no = $3`, cid, statementID, line, paymentID, p.Fee); err != nil {
			return err
		}
		st, err = s.settle(ctx, tx, cid, statementID)
		return err
	})
	if err != nil {
		return nil, MapError(err)
	}
	return &st, nil
}
