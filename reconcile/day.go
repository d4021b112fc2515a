package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/money"
)

// Day is everything the treasurer checks about one business day
// (API.md GET {c}/days/{date}).
type Day struct {
	Date       string          `json:"date"`
	Status     string          `json:"status"` // open, closed
	ClosedAt   *time.Time      `json:"closed_at,omitempty"`
	Timezone   string          `json:"timezone"`
	Sales      Sales           `json:"sales"`
	Refunds    Refunds         `json:"refunds"`
	GroupBuys  Sales           `json:"groupbuys"`
	FundIn     FundIn          `json:"fund_in"`
	Shifts     []Shift         `json:"shifts"`
	Statements StatementCounts `json:"statements"`
	Static     []StaticSale    `json:"static_awaiting_match"`
	Issues     []Issue         `json:"issues"`
	OpenIssues int             `json:"open_issues"`
	CanClose   bool            `json:"can_close"`
}

// Sales sums paid orders of the day.
type Sales struct {
	Count      int                     `json:"count"`
	Gross      money.Amount            `json:"gross"`
	ByMethod   map[string]money.Amount `json:"by_method"`
	ByProvider map[string]money.Amount `json:"by_provider"`
	ByStall    []StallSales            `json:"by_stall"`
}

// StallSales is one stall's part of the day.
type StallSales struct {
	LocationID string       `json:"location_id"`
	Name       string       `json:"name"`
	Count      int          `json:"count"`
	Gross      money.Amount `json:"gross"`
	Cash       money.Amount `json:"cash"`
	QR         money.Amount `json:"qr"`
	Refunds    money.Amount `json:"refunds"`
}

// Refunds sums the refunds made that day (of any day's sales).
type Refunds struct {
	Count      int                     `json:"count"`
	Amount     money.Amount            `json:"amount"`
	ByProvider map[string]money.Amount `json:"by_provider"`
	Pending    int                     `json:"pending"`
}

// FundIn is the fund's inflow of the day by earmark, and what refunds took back.
type FundIn struct {
	Gross     money.Amount    `json:"gross"`
	Reversed  money.Amount    `json:"reversed"`
	Net       money.Amount    `json:"net"`
	ByEarmark []EarmarkAmount `json:"by_earmark"`
}

// EarmarkAmount is one earmark's inflow.
type EarmarkAmount struct {
	Name   string       `json:"name"`
	Amount money.Amount `json:"amount"`
}

// Shift is one shift opened that day.
type Shift struct {
	ID           string        `db:"id" json:"id"`
	LocationID   string        `db:"location_id" json:"location_id"`
	Stall        string        `db:"stall" json:"stall"`
	OpenedAt     time.Time     `db:"opened_at" json:"opened_at"`
	ClosedAt     *time.Time    `db:"closed_at" json:"closed_at,omitempty"`
	Float        money.Amount  `db:"opening_float" json:"float"`
	CashSales    *money.Amount `db:"cash_sales" json:"cash_sales,omitempty"`
	CashRefunds  *money.Amount `db:"cash_refunds" json:"cash_refunds,omitempty"`
	ExpectedCash *money.Amount `db:"expected_cash" json:"expected_cash,omitempty"`
	CountedCash  *money.Amount `db:"counted_cash" json:"counted_cash,omitempty"`
	Variance     *money.Amount `db:"variance" json:"variance,omitempty"`
	Status       string        `db:"-" json:"status"` // open, closed
}

// StatementCounts are the day's statements and what matching found.
type StatementCounts struct {
	Matched            int             `json:"matched"`
	MissingInStatement int             `json:"missing_in_statement"`
	MissingInShelin    int             `json:"missing_in_shelin"`
	AmountMismatch     int             `json:"amount_mismatch"`
	Files              []StatementFile `json:"files"`
	Rows               []StatementRow  `json:"rows,omitempty"` // the unmatched ones
}

// StatementFile is one current statement of the day.
type StatementFile struct {
	ID         string       `db:"id" json:"id"`
	Provider   string       `db:"provider" json:"provider"`
	Filename   string       `db:"filename" json:"filename"`
	Rows       int          `db:"rows" json:"rows"`
	Payments   money.Amount `db:"payments_total" json:"payments_total"`
	Refunds    money.Amount `db:"refunds_total" json:"refunds_total"`
	Fees       money.Amount `db:"fees_total" json:"fees_total"`
	UploadedAt time.Time    `db:"uploaded_at" json:"uploaded_at"`
	Matched    int          `db:"matched" json:"matched"`
}

// StatementRow is a statement row that needs the treasurer.
type StatementRow struct {
	StatementID string        `db:"statement_id" json:"statement_id"`
	Provider    string        `db:"provider" json:"provider"`
	Line        int           `db:"line_no" json:"line"`
	Kind        string        `db:"kind" json:"kind"`
	MerchantRef string        `db:"merchant_ref" json:"merchant_ref"`
	RefundNo    string        `db:"refund_no" json:"refund_no,omitempty"`
	Amount      money.Amount  `db:"amount" json:"amount"`
	Expected    *money.Amount `db:"expected" json:"expected,omitempty"`
	Result      string        `db:"result" json:"result"`
	At          *time.Time    `db:"at" json:"at,omitempty"`
}

// StaticSale is a 收款码 sale waiting to be ticked off against a statement row.
type StaticSale struct {
	PaymentID string       `db:"payment_id" json:"payment_id"`
	OrderID   string       `db:"order_id" json:"order_id"`
	Number    string       `db:"number" json:"number"`
	Amount    money.Amount `db:"amount" json:"amount"`
	PaidAt    time.Time    `db:"succeeded_at" json:"paid_at"`
}

// Issue kinds.
const (
	IssueShiftOpen          = "shift_open" // blocks the close; cannot be acknowledged
	IssueShiftVariance      = "shift_variance"
	IssueNoStatement        = "no_statement"
	IssueMissingInStatement = "missing_in_statement"
	IssueMissingInShelin    = "missing_in_shelin"
	IssueAmountMismatch     = "amount_mismatch"
	IssueStaticUnmatched    = "static_unmatched"
	IssueSuspense           = "suspense"
	IssueAwaitingPayment    = "awaiting_payment"
	IssueRefundPending      = "refund_pending"
	IssueVerify             = "verify"
)

// Issue is one thing to resolve or acknowledge before the day closes.
type Issue struct {
	Key      string        `json:"key"`
	Kind     string        `json:"kind"`
	Ref      string        `json:"ref"`
	Amount   *money.Amount `json:"amount,omitempty"`
	Detail   string        `json:"detail"`
	Status   string        `json:"status"` // open, resolved, acknowledged
	Note     string        `json:"note,omitempty"`
	Blocking bool          `json:"blocking,omitempty"` // only fixing it helps (an open shift)
	// Params fill the pages' catalogue message of the kind (a "@" marks a
	// catalogue key to look up itself).
	Params []string `json:"-"`
}

// Day gathers a business day from the database as it is now.
func (s *Service) Day(ctx context.Context, cid, date string) (*Day, error) {
	return s.dayIn(ctx, s.DB, cid, date, true)
}

func (s *Service) dayIn(ctx context.Context, q sqlx.QueryerContext, cid, date string, verify bool) (*Day, error) {
	com, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	day, err := ParseDay(date)
	if err != nil {
		return nil, err
	}
	loc := com.Location()
	start, end := bounds(day, loc)
	d := &Day{Date: date, Timezone: com.Timezone, Shifts: []Shift{}, Issues: []Issue{}, Static: []StaticSale{}}
	if d.Status, d.ClosedAt, err = dayStatus(ctx, q, cid, day); err != nil {
		return nil, err
	}
	if err := salesOf(ctx, q, cid, day, start, end, d); err != nil {
		return nil, err
	}
	if err := fundOf(ctx, q, cid, start, end, d); err != nil {
		return nil, err
	}
	if err := sqlx.SelectContext(ctx, q, &d.Shifts, `
		SELECT s.id, s.location_id, l.name AS stall, s.opened_at, s.closed_at, s.opening_float, s.cash_sales, s.cash_refunds,
			s.expected_cash, s.counted_cash, s.variance
		FROM pos_shifts s JOIN locations l ON l.id = s.location_id
		WHERE s.community_id = $1 AND s.opened_at >= $2 AND s.opened_at < $3 ORDER BY l.name, s.opened_at`, cid, start, end); err != nil {
		return nil, fmt.Errorf("reconcile: shifts: %w", err)
	}
	for i := range d.Shifts {
		sh := &d.Shifts[i]
		sh.Status = "closed"
		if sh.ClosedAt == nil {
			sh.Status = "open"
			d.Issues = append(d.Issues, Issue{Key: "shift_open:" + sh.ID, Kind: IssueShiftOpen, Ref: sh.Stall, Amount: &sh.Float,
				Detail: "the shift is still open: close it with a cash count", Blocking: true})
		} else if sh.Variance != nil && !sh.Variance.IsZero() {
			d.Issues = append(d.Issues, Issue{Key: "shift_variance:" + sh.ID, Kind: IssueShiftVariance, Ref: sh.Stall, Amount: sh.Variance,
				Detail: fmt.Sprintf("counted %s, expected %s", sh.CountedCash.Yuan(), sh.ExpectedCash.Yuan()),
				Params: []string{sh.CountedCash.Yuan(), sh.ExpectedCash.Yuan()}})
		}
	}
	if err := statementsOf(ctx, q, cid, day, start, end, d); err != nil {
		return nil, err
	}
	if err := otherIssues(ctx, q, cid, day, start, end, d); err != nil {
		return nil, err
	}
	if verify && s.POS != nil {
		rep, err := s.POS.Verify(ctx, cid)
		if err != nil {
			return nil, err
		}
		for _, p := range rep.Problems {
			h := sha256.Sum256([]byte(p))
			d.Issues = append(d.Issues, Issue{Key: "verify:" + hex.EncodeToString(h[:8]), Kind: IssueVerify, Ref: "verify", Detail: p, Params: []string{p}})
		}
	}
	if err := applyResolutions(ctx, q, cid, day, d); err != nil {
		return nil, err
	}
	d.CanClose = d.Status == "open" && !day.After(time.Date(s.now().In(loc).Year(), s.now().In(loc).Month(), s.now().In(loc).Day(), 0, 0, 0, 0, time.UTC))
	for _, is := range d.Issues {
		if is.Status == "open" {
			d.OpenIssues++
			d.CanClose = false
		}
	}
	return d, nil
}

func salesOf(ctx context.Context, q sqlx.QueryerContext, cid string, day, start, end time.Time, d *Day) error {
	var rows []struct {
		Channel  string       `db:"channel"`
		Stall    string       `db:"stall"`
		Name     string       `db:"name"`
		Method   string       `db:"method"`
		Provider string       `db:"provider"`
		Count    int          `db:"n"`
		Gross    money.Amount `db:"gross"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT o.channel, COALESCE(ps.location_id::text, '') AS stall, COALESCE(l.name, '') AS name, p.method, p.provider,
			count(*) AS n, sum(o.total) AS gross
		FROM orders o JOIN payments p ON p.order_id = o.id
		LEFT JOIN pos_sales ps ON ps.order_id = o.id LEFT JOIN locations l ON l.id = ps.location_id
		WHERE o.community_id = $1 AND o.business_day = $2 AND o.status = 'paid'
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 3, 4, 5`, cid, day); err != nil {
		return fmt.Errorf("reconcile: sales: %w", err)
	}
	d.Sales = Sales{ByMethod: map[string]money.Amount{}, ByProvider: map[string]money.Amount{}, ByStall: []StallSales{}}
	d.GroupBuys = Sales{ByMethod: map[string]money.Amount{}, ByProvider: map[string]money.Amount{}, ByStall: []StallSales{}}
	stalls := map[string]*StallSales{}
	for _, r := range rows {
		target := &d.Sales
		if r.Channel == "groupbuy" {
			target = &d.GroupBuys
		}
		target.Count += r.Count
		target.Gross = target.Gross.Add(r.Gross)
		target.ByMethod[r.Method] = target.ByMethod[r.Method].Add(r.Gross)
		target.ByProvider[r.Provider] = target.ByProvider[r.Provider].Add(r.Gross)
		if r.Channel != "pos" {
			continue
		}
		st := stalls[r.Stall]
		if st == nil {
			st = &StallSales{LocationID: r.Stall, Name: r.Name}
			stalls[r.Stall] = st
		}
		st.Count += r.Count
		st.Gross = st.Gross.Add(r.Gross)
		if r.Method == "cash" {
			st.Cash = st.Cash.Add(r.Gross)
		} else {
			st.QR = st.QR.Add(r.Gross)
		}
	}
	var refunds []struct {
		Stall    string       `db:"stall"`
		Name     string       `db:"name"`
		Provider string       `db:"provider"`
		Status   string       `db:"status"`
		Count    int          `db:"n"`
		Amount   money.Amount `db:"amount"`
	}
	if err := sqlx.SelectContext(ctx, q, &refunds, `
		SELECT COALESCE(ps.location_id::text, '') AS stall, COALESCE(l.name, '') AS name, p.provider, r.status, count(*) AS n, sum(r.amount) AS amount
		FROM refunds r JOIN payments p ON p.id = r.payment_id
		LEFT JOIN pos_sales ps ON ps.order_id = r.order_id LEFT JOIN locations l ON l.id = ps.location_id
		WHERE r.community_id = $1 AND r.created_at >= $2 AND r.created_at < $3
		GROUP BY 1, 2, 3, 4`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: refunds: %w", err)
	}
	d.Refunds.ByProvider = map[string]money.Amount{}
	for _, r := range refunds {
		d.Refunds.Count += r.Count
		d.Refunds.Amount = d.Refunds.Amount.Add(r.Amount)
		d.Refunds.ByProvider[r.Provider] = d.Refunds.ByProvider[r.Provider].Add(r.Amount)
		if r.Status != "succeeded" {
			d.Refunds.Pending += r.Count
		}
		if r.Stall != "" {
			st := stalls[r.Stall]
			if st == nil {
				st = &StallSales{LocationID: r.Stall, Name: r.Name}
				stalls[r.Stall] = st
			}
			st.Refunds = st.Refunds.Add(r.Amount)
		}
	}
	for _, st := range stalls {
		d.Sales.ByStall = append(d.Sales.ByStall, *st)
	}
	sort.Slice(d.Sales.ByStall, func(i, j int) bool { return d.Sales.ByStall[i].Name < d.Sales.ByStall[j].Name })
	return nil
}

func fundOf(ctx context.Context, q sqlx.QueryerContext, cid string, start, end time.Time, d *Day) error {
	d.FundIn.ByEarmark = []EarmarkAmount{}
	if err := sqlx.SelectContext(ctx, q, &d.FundIn.ByEarmark, `SELECT earmark AS name, sum(original) AS amount FROM fund_lots
		WHERE community_id = $1 AND at >= $2 AND at < $3 GROUP BY earmark ORDER BY earmark`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: fund lots: %w", err)
	}
	for _, e := range d.FundIn.ByEarmark {
		d.FundIn.Gross = d.FundIn.Gross.Add(e.Amount)
	}
	if err := sqlx.GetContext(ctx, q, &d.FundIn.Reversed, `SELECT COALESCE(sum(net), 0) FROM fund_reversals
		WHERE community_id = $1 AND at >= $2 AND at < $3`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: fund reversals: %w", err)
	}
	d.FundIn.Net = d.FundIn.Gross.Sub(d.FundIn.Reversed)
	return nil
}

// statementsOf counts the day's statement rows and lists what did not match:
// rows Shelin does not know or with another amount, and the day's provider
// payments and refunds that no current statement lists.
func statementsOf(ctx context.Context, q sqlx.QueryerContext, cid string, day, start, end time.Time, d *Day) error {
	d.Statements.Files = []StatementFile{}
	if err := sqlx.SelectContext(ctx, q, &d.Statements.Files, `
		SELECT s.id, s.provider, s.filename, s.rows, s.payments_total, s.refunds_total, s.fees_total, s.uploaded_at,
			(SELECT count(*) FROM reconcile_statement_rows r WHERE r.statement_id = s.id AND r.result IN ('matched','static_matched')) AS matched
		FROM reconcile_statements s WHERE s.community_id = $1 AND s.day = $2 AND s.superseded_by IS NULL ORDER BY s.provider`, cid, day); err != nil {
		return fmt.Errorf("reconcile: statements: %w", err)
	}
	have := map[string]bool{}
	for _, f := range d.Statements.Files {
		have[f.Provider] = true
		d.Statements.Matched += f.Matched
	}
	d.Statements.Rows = []StatementRow{}
	if err := sqlx.SelectContext(ctx, q, &d.Statements.Rows, `
		SELECT r.statement_id, s.provider, r.line_no, r.kind, r.merchant_ref, r.refund_no, r.amount, r.expected, r.result, r.at
		FROM reconcile_statement_rows r JOIN reconcile_statements s ON s.id = r.statement_id
		WHERE s.community_id = $1 AND s.day = $2 AND s.superseded_by IS NULL AND r.result IN ('missing_in_shelin','amount_mismatch')
		ORDER BY s.provider, r.line_no LIMIT 1000`, cid, day); err != nil {
		return fmt.Errorf("reconcile: statement rows: %w", err)
	}
	for _, r := range d.Statements.Rows {
		amt := r.Amount
		key := fmt.Sprintf("%s:%s:%d", r.Result, r.StatementID, r.Line)
		ref := r.MerchantRef
		if r.Kind == KindRefund {
			ref = r.RefundNo
		}
		if r.Result == MissingInShelin {
			d.Statements.MissingInShelin++
			d.Issues = append(d.Issues, Issue{Key: key, Kind: IssueMissingInShelin, Ref: ref, Amount: &amt,
				Detail: fmt.Sprintf("%s statement line %d (%s): Shelin has no such %s", r.Provider, r.Line, r.Kind, r.Kind),
				Params: []string{"@day.provider." + r.Provider, fmt.Sprint(r.Line)}})
		} else {
			d.Statements.AmountMismatch++
			d.Issues = append(d.Issues, Issue{Key: key, Kind: IssueAmountMismatch, Ref: ref, Amount: &amt,
				Detail: fmt.Sprintf("%s statement line %d: %s, Shelin %s", r.Provider, r.Line, r.Amount.Yuan(), r.Expected.Yuan()),
				Params: []string{"@day.provider." + r.Provider, fmt.Sprint(r.Line), r.Amount.Yuan(), r.Expected.Yuan()}})
		}
	}
	// Provider payments and refunds of the day.
	var items []struct {
		Kind     string       `db:"kind"`
		ID       string       `db:"id"`
		Ref      string       `db:"ref"`
		Provider string       `db:"provider"`
		Amount   money.Amount `db:"amount"`
		Listed   bool         `db:"listed"`
	}
	if err := sqlx.SelectContext(ctx, q, &items, `
		SELECT 'payment' AS kind, p.id::text AS id, o.number || ' ' || p.merchant_ref AS ref, p.provider, p.amount,
			EXISTS (SELECT 1 FROM reconcile_statement_rows r JOIN reconcile_statements s ON s.id = r.statement_id
				WHERE r.payment_id = p.id AND s.superseded_by IS NULL) AS listed
		FROM payments p JOIN orders o ON o.id = p.order_id
		WHERE p.community_id = $1 AND p.provider IN ('wechatpay','alipay','sandbox') AND p.status IN ('succeeded','held')
			AND p.succeeded_at >= $2 AND p.succeeded_at < $3
		UNION ALL
		SELECT 'refund', r.id::text, o.number || ' refund ' || r.id, p.provider, r.amount,
			EXISTS (SELECT 1 FROM reconcile_statement_rows x JOIN reconcile_statements s ON s.id = x.statement_id
				WHERE x.refund_id = r.id::text AND s.superseded_by IS NULL)
		FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN orders o ON o.id = r.order_id
		WHERE r.community_id = $1 AND p.provider IN ('wechatpay','alipay','sandbox') AND r.status = 'succeeded'
			AND r.created_at >= $2 AND r.created_at < $3`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: provider items: %w", err)
	}
	noStatement := map[string]money.Amount{}
	for _, it := range items {
		if it.Listed {
			continue
		}
		if !have[it.Provider] {
			noStatement[it.Provider] = noStatement[it.Provider].Add(it.Amount)
			continue
		}
		amt := it.Amount
		d.Statements.MissingInStatement++
		if len(d.Issues) < 2000 {
			d.Issues = append(d.Issues, Issue{Key: "missing_in_statement:" + it.ID, Kind: IssueMissingInStatement, Ref: it.Ref, Amount: &amt,
				Detail: fmt.Sprintf("%s %s is not in the %s statement", it.Kind, it.Ref, it.Provider),
				Params: []string{"@day.kind." + it.Kind, "@day.provider." + it.Provider}})
		}
	}
	provs := make([]string, 0, len(noStatement))
	for p := range noStatement {
		provs = append(provs, p)
	}
	sort.Strings(provs)
	for _, p := range provs {
		amt := noStatement[p]
		d.Issues = append(d.Issues, Issue{Key: "no_statement:" + p, Kind: IssueNoStatement, Ref: p, Amount: &amt,
			Detail: fmt.Sprintf("no %s statement for this day yet", p), Params: []string{"@day.provider." + p}})
	}
	return nil
}

func otherIssues(ctx context.Context, q sqlx.QueryerContext, cid string, day, start, end time.Time, d *Day) error {
	// 收款码 sales waiting to be ticked off.
	if err := sqlx.SelectContext(ctx, q, &d.Static, `
		SELECT p.id AS payment_id, o.id AS order_id, o.number, p.amount, p.succeeded_at
		FROM payments p JOIN orders o ON o.id = p.order_id
		WHERE p.community_id = $1 AND p.provider = 'static' AND p.status = 'succeeded' AND p.succeeded_at >= $2 AND p.succeeded_at < $3
			AND NOT EXISTS (SELECT 1 FROM reconcile_statement_rows r JOIN reconcile_statements s ON s.id = r.statement_id
				WHERE r.payment_id = p.id AND s.superseded_by IS NULL)
		ORDER BY p.succeeded_at`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: static sales: %w", err)
	}
	for _, st := range d.Static {
		amt := st.Amount
		d.Issues = append(d.Issues, Issue{Key: "static_unmatched:" + st.PaymentID, Kind: IssueStaticUnmatched, Ref: st.Number, Amount: &amt,
			Detail: "a 收款码 sale not yet ticked off against a statement row"})
	}
	// Held money: created that day (until refunded or completed) and any
	// still held from earlier days.
	var held []struct {
		ID     string       `db:"id"`
		Number string       `db:"number"`
		Amount money.Amount `db:"amount"`
		Reason string       `db:"reason"`
		Status string       `db:"status"`
	}
	if err := sqlx.SelectContext(ctx, q, &held, `
		SELECT s.id, o.number, s.amount, s.reason, s.status FROM payment_suspense s JOIN orders o ON o.id = s.order_id
		WHERE s.community_id = $1 AND s.created_at < $3 AND (s.created_at >= $2 OR s.status IN ('open','refunding'))
		ORDER BY s.created_at`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: suspense: %w", err)
	}
	for _, h := range held {
		amt := h.Amount
		is := Issue{Key: "suspense:" + h.ID, Kind: IssueSuspense, Ref: h.Number, Amount: &amt,
			Detail: fmt.Sprintf("money held in suspense (%s, %s): refund it or complete the sale", h.Reason, h.Status),
			Params: []string{"@susp.reason." + h.Reason, "@susp.status." + h.Status}}
		if h.Status == "refunded" || h.Status == "completed" {
			is.Status, is.Note = "resolved", h.Status
		}
		d.Issues = append(d.Issues, is)
	}
	var awaiting []struct {
		ID     string       `db:"id"`
		Number string       `db:"number"`
		Total  money.Amount `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, q, &awaiting, `SELECT id, number, total FROM orders
		WHERE community_id = $1 AND business_day = $2 AND status = 'awaiting_payment' AND channel = 'pos' ORDER BY number`, cid, day); err != nil {
		return fmt.Errorf("reconcile: awaiting: %w", err)
	}
	for _, a := range awaiting {
		amt := a.Total
		d.Issues = append(d.Issues, Issue{Key: "awaiting_payment:" + a.ID, Kind: IssueAwaitingPayment, Ref: a.Number, Amount: &amt,
			Detail: "the sale still awaits payment"})
	}
	var pending []struct {
		ID     string       `db:"id"`
		Number string       `db:"number"`
		Amount money.Amount `db:"amount"`
		Status string       `db:"status"`
	}
	if err := sqlx.SelectContext(ctx, q, &pending, `SELECT r.id, o.number, r.amount, r.status FROM refunds r JOIN orders o ON o.id = r.order_id
		WHERE r.community_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND r.status <> 'succeeded' ORDER BY r.created_at`, cid, start, end); err != nil {
		return fmt.Errorf("reconcile: pending refunds: %w", err)
	}
	for _, p := range pending {
		amt := p.Amount
		d.Issues = append(d.Issues, Issue{Key: "refund_pending:" + p.ID, Kind: IssueRefundPending, Ref: p.Number, Amount: &amt,
			Detail: fmt.Sprintf("the provider has not confirmed this refund (%s)", p.Status), Params: []string{p.Status}})
	}
	return nil
}

func applyResolutions(ctx context.Context, q sqlx.QueryerContext, cid string, day time.Time, d *Day) error {
	var res []struct {
		Key    string `db:"issue_key"`
		Action string `db:"action"`
		Note   string `db:"note"`
	}
	if err := sqlx.SelectContext(ctx, q, &res, `SELECT issue_key, action, note FROM reconcile_resolutions WHERE community_id = $1 AND day = $2`, cid, day); err != nil {
		return fmt.Errorf("reconcile: resolutions: %w", err)
	}
	by := make(map[string]int, len(res))
	for i, r := range res {
		by[r.Key] = i
	}
	for i := range d.Issues {
		is := &d.Issues[i]
		if is.Status == "" {
			is.Status = "open"
		}
		if j, ok := by[is.Key]; ok && !is.Blocking && is.Status == "open" {
			is.Status, is.Note = res[j].Action, res[j].Note
		}
	}
	return nil
}
