package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// Resolution is the treasurer's word on one issue: resolved (with an
// adjustment entry when money moved) or acknowledged.
type Resolution struct {
	CommunityID string
	Day         string
	IssueKey    string
	Action      string // resolved, acknowledged
	Note        string
	// Adjustment, when not zero, posts money found (positive: Dr Account /
	// Cr cash over/short) or lost (negative: the reverse) on the next open
	// day, today.
	Adjustment money.Amount
	Account    string // "bank" (default) or "cash_drawer:<location id>"
	UserID     string
}

// Resolve records a resolution of one of the day's open issues.
func (s *Service) Resolve(ctx context.Context, r Resolution) error {
	if r.Action != "resolved" && r.Action != "acknowledged" {
		return apperr.Field("action", "the action is resolved or acknowledged")
	}
	r.Note = strings.TrimSpace(r.Note)
	if r.Note == "" || len([]rune(r.Note)) > 1000 {
		return apperr.Field("note", "write a short note on what happened")
	}
	day, err := ParseDay(r.Day)
	if err != nil {
		return err
	}
	d, err := s.dayIn(ctx, s.DB, r.CommunityID, r.Day, false)
	if err != nil {
		return err
	}
	if d.Status == "closed" {
		return apperr.New(apperr.DayClosed, "business day %s is closed; record late corrections on the next open day", r.Day)
	}
	var issue *Issue
	for i := range d.Issues {
		if d.Issues[i].Key == r.IssueKey {
			issue = &d.Issues[i]
		}
	}
	if issue == nil && strings.HasPrefix(r.IssueKey, "verify:") {
		issue = &Issue{Key: r.IssueKey, Kind: IssueVerify, Status: "open"}
	}
	if issue == nil {
		return apperr.NotFoundf("no such issue on %s", r.Day)
	}
	if issue.Blocking {
		return apperr.Conflictf("an open shift cannot be acknowledged: close it with a cash count")
	}
	if issue.Status != "open" {
		return apperr.Conflictf("this issue is already %s", issue.Status)
	}
	acct := fund.Bank()
	if strings.HasPrefix(r.Account, "cash_drawer:") {
		acct = fund.CashDrawer(strings.TrimPrefix(r.Account, "cash_drawer:"))
	} else if r.Account != "" && r.Account != "bank" {
		return apperr.Field("account", "the adjustment goes to the bank or a stall's cash drawer")
	}
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var entry any
		var adj any
		if !r.Adjustment.IsZero() {
			adj = r.Adjustment
			id := r.Day + ":" + r.IssueKey
			if err := s.transfer(ctx, tx, r.CommunityID, "reconcile_adjustment", id, r.IssueKey, acct, fund.CashOverShort(), r.Adjustment,
				"reconciliation "+r.Day+": "+truncate(r.Note, 200)); err != nil {
				return err
			}
			var eid string
			if err := tx.GetContext(ctx, &eid, `SELECT id FROM ledger_entries WHERE community_id = $1 AND kind = 'transfer'
				AND source_kind = 'reconcile_adjustment' AND source_id = $2`, r.CommunityID, id); err != nil {
				return err
			}
			entry = eid
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO reconcile_resolutions (community_id, day, issue_key, action, note, adjustment, account, entry_id, by_user)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			r.CommunityID, day, r.IssueKey, r.Action, r.Note, adj, r.Account, entry, nullUser(r.UserID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.Conflictf("this issue is already resolved")
		}
		return nil
	})
	return MapError(err)
}

// ZReport is the immutable end-of-day report: the community's totals and
// each stall's, chained to the previous report by its hash.
type ZReport struct {
	Seq      int64      `json:"-"`
	Day      string     `json:"day"`
	Version  int        `json:"version"`
	PrevHash string     `json:"-"`
	Hash     string     `json:"-"`
	Body     ZBody      `json:"body"`
	Raw      string     `json:"-"`
	At       time.Time  `json:"-"`
	ClosedBy string     `json:"-"`
	ClosedAt *time.Time `json:"-"`
}

// ZBody is what a Z-report states (its canonical JSON is hashed).
type ZBody struct {
	CommunityID string                  `json:"community_id"`
	Community   string                  `json:"community"`
	Day         string                  `json:"day"`
	Version     int                     `json:"version"`
	ClosedAt    time.Time               `json:"closed_at"`
	Sales       int                     `json:"sales"`
	Gross       money.Amount            `json:"gross"`
	ByMethod    map[string]money.Amount `json:"by_method"`
	ByProvider  map[string]money.Amount `json:"by_provider"`
	Refunds     money.Amount            `json:"refunds"`
	RefundCount int                     `json:"refund_count"`
	GroupBuys   money.Amount            `json:"groupbuys"`
	FundIn      money.Amount            `json:"fund_in"`
	FundNet     money.Amount            `json:"fund_net"`
	Earmarks    []EarmarkAmount         `json:"earmarks"`
	Stalls      []ZStall                `json:"stalls"`
	Matched     int                     `json:"statement_matched"`
	Issues      int                     `json:"issues"`
	Resolved    int                     `json:"issues_resolved"`
	Ack         int                     `json:"issues_acknowledged"`
	PrevHash    string                  `json:"prev_hash"`
}

// ZStall is one stall in a Z-report.
type ZStall struct {
	StallSales
	Float    money.Amount `json:"float"`
	Expected money.Amount `json:"expected_cash"`
	Counted  money.Amount `json:"counted_cash"`
	Variance money.Amount `json:"variance"`
	Shifts   int          `json:"shifts"`
}

func chainHash(prev, body string) string {
	h := sha256.Sum256([]byte(prev + "\n" + body))
	return hex.EncodeToString(h[:])
}

// Close closes a business day: every shift of the day is closed and every
// issue resolved or acknowledged; the day is then locked (the database
// refuses orders, refunds, shifts and ledger entries dated that day) and a
// Z-report is written, chained to the community's previous one. Closing a
// closed day returns its report.
func (s *Service) Close(ctx context.Context, cid, date, userID string) (*ZReport, error) {
	day, err := ParseDay(date)
	if err != nil {
		return nil, err
	}
	com, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	if date > Today(s.now(), com.Location()) {
		return nil, apperr.Field("date", "a day can be closed once it has begun")
	}
	var z *ZReport
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// One closer at a time per community (the chain is per community).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('reconcile:' || $1::text))`, cid); err != nil {
			return err
		}
		status, _, err := dayStatus(ctx, tx, cid, day)
		if err != nil {
			return err
		}
		if status == "closed" {
			z, err = s.zreportIn(ctx, tx, cid, date)
			return err
		}
		d, err := s.dayIn(ctx, tx, cid, date, true)
		if err != nil {
			return err
		}
		if d.OpenIssues > 0 {
			blocking := 0
			for _, is := range d.Issues {
				if is.Blocking && is.Status == "open" {
					blocking++
				}
			}
			if blocking > 0 {
				return apperr.Conflictf("%d shift(s) of %s are still open: close them with a cash count first", blocking, date)
			}
			return apperr.Conflictf("%d issue(s) of %s are still open: resolve or acknowledge them first", d.OpenIssues, date)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_days (community_id, day, status, closed_by, closed_at) VALUES ($1, $2, 'closed', $3, $4)
			ON CONFLICT (community_id, day) DO UPDATE SET status = 'closed', closed_by = EXCLUDED.closed_by, closed_at = EXCLUDED.closed_at`,
			cid, day, nullUser(userID), now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_day_events (community_id, day, action, by_user) VALUES ($1, $2, 'closed', $3)`,
			cid, day, nullUser(userID)); err != nil {
			return err
		}
		var prev string
		var version int
		if err := tx.GetContext(ctx, &prev, `SELECT COALESCE((SELECT hash FROM reconcile_zreports WHERE community_id = $1 ORDER BY seq DESC LIMIT 1), '')`, cid); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &version, `SELECT COALESCE(max(version), 0) + 1 FROM reconcile_zreports WHERE community_id = $1 AND day = $2`, cid, day); err != nil {
			return err
		}
		body := zbody(com.ID, com.Name, d, version, now.UTC().Truncate(time.Second), prev)
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		hash := chainHash(prev, string(raw))
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_zreports (community_id, day, version, prev_hash, hash, body, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, cid, day, version, prev, hash, string(raw), nullUser(userID)); err != nil {
			return err
		}
		z, err = s.zreportIn(ctx, tx, cid, date)
		return err
	})
	if err != nil {
		return nil, MapError(err)
	}
	return z, nil
}

func zbody(cid, name string, d *Day, version int, at time.Time, prev string) ZBody {
	b := ZBody{CommunityID: cid, Community: name, Day: d.Date, Version: version, ClosedAt: at, Sales: d.Sales.Count, Gross: d.Sales.Gross,
		ByMethod: d.Sales.ByMethod, ByProvider: d.Sales.ByProvider, Refunds: d.Refunds.Amount, RefundCount: d.Refunds.Count,
		GroupBuys: d.GroupBuys.Gross, FundIn: d.FundIn.Gross, FundNet: d.FundIn.Net, Earmarks: d.FundIn.ByEarmark,
		Matched: d.Statements.Matched, Issues: len(d.Issues), PrevHash: prev, Stalls: []ZStall{}}
	stalls := map[string]*ZStall{}
	var order []string
	for _, st := range d.Sales.ByStall {
		stalls[st.LocationID] = &ZStall{StallSales: st}
		order = append(order, st.LocationID)
	}
	for _, sh := range d.Shifts {
		z := stalls[sh.LocationID]
		if z == nil {
			z = &ZStall{StallSales: StallSales{LocationID: sh.LocationID, Name: sh.Stall}}
			stalls[sh.LocationID] = z
			order = append(order, sh.LocationID)
		}
		z.Shifts++
		z.Float = z.Float.Add(sh.Float)
		if sh.ExpectedCash != nil {
			z.Expected = z.Expected.Add(*sh.ExpectedCash)
			z.Counted = z.Counted.Add(*sh.CountedCash)
			z.Variance = z.Variance.Add(*sh.Variance)
		}
	}
	for _, id := range order {
		b.Stalls = append(b.Stalls, *stalls[id])
	}
	for _, is := range d.Issues {
		switch is.Status {
		case "resolved":
			b.Resolved++
		case "acknowledged":
			b.Ack++
		}
	}
	return b
}

// ZReportOf returns the latest Z-report of a closed (or reopened) day.
func (s *Service) ZReportOf(ctx context.Context, cid, date string) (*ZReport, error) {
	if _, err := ParseDay(date); err != nil {
		return nil, err
	}
	return s.zreportIn(ctx, s.DB, cid, date)
}

func (s *Service) zreportIn(ctx context.Context, q sqlx.QueryerContext, cid, date string) (*ZReport, error) {
	var row struct {
		Seq       int64     `db:"seq"`
		Version   int       `db:"version"`
		Prev      string    `db:"prev_hash"`
		Hash      string    `db:"hash"`
		Body      string    `db:"body"`
		CreatedAt time.Time `db:"created_at"`
		By        string    `db:"by"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT z.seq, z.version, z.prev_hash, z.hash, z.body, z.created_at, COALESCE(NULLIF(u.display_name, ''), u.login, '') AS by
		FROM reconcile_zreports z LEFT JOIN users u ON u.id = z.created_by
		WHERE z.community_id = $1 AND z.day = $2 ORDER BY z.version DESC LIMIT 1`, cid, date)
	if err == sql.ErrNoRows {
		return nil, apperr.NotFoundf("day %s has no Z-report: it has not been closed", date)
	} else if err != nil {
		return nil, err
	}
	z := &ZReport{Seq: row.Seq, Day: date, Version: row.Version, PrevHash: row.Prev, Hash: row.Hash, Raw: row.Body, At: row.CreatedAt, ClosedBy: row.By}
	if err := json.Unmarshal([]byte(row.Body), &z.Body); err != nil {
		return nil, fmt.Errorf("reconcile: Z-report %d: %w", row.Seq, err)
	}
	return z, nil
}

// ChainProblem is a Z-report whose hash or link does not hold.
type ChainProblem struct {
	Seq     int64  `json:"seq"`
	Day     string `json:"day"`
	Version int    `json:"version"`
	Problem string `json:"problem"`
}

// VerifyChain recomputes every Z-report hash of a community in order and
// checks each one names its predecessor: a changed past report shows.
func (s *Service) VerifyChain(ctx context.Context, cid string) (int, []ChainProblem, error) {
	var rows []struct {
		Seq     int64     `db:"seq"`
		Day     time.Time `db:"day"`
		Version int       `db:"version"`
		Prev    string    `db:"prev_hash"`
		Hash    string    `db:"hash"`
		Body    string    `db:"body"`
	}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT seq, day, version, prev_hash, hash, body FROM reconcile_zreports WHERE community_id = $1 ORDER BY seq`, cid); err != nil {
		return 0, nil, err
	}
	problems := []ChainProblem{}
	prev := ""
	for _, r := range rows {
		p := ChainProblem{Seq: r.Seq, Day: r.Day.Format("2006-01-02"), Version: r.Version}
		var body ZBody
		switch {
		case r.Prev != prev:
			p.Problem = "does not link to the previous report"
		case chainHash(r.Prev, r.Body) != r.Hash:
			p.Problem = "its content does not match its hash (changed after it was written)"
		case json.Unmarshal([]byte(r.Body), &body) != nil || body.PrevHash != r.Prev || body.Day != p.Day:
			p.Problem = "its content names another day or predecessor"
		}
		if p.Problem != "" {
			problems = append(problems, p)
		}
		prev = r.Hash
	}
	return len(rows), problems, nil
}

// Reopen opens a closed day again (an admin, with a reason; audited). Its
// Z-report stays; closing it again writes a new version into the chain.
func (s *Service) Reopen(ctx context.Context, cid, date, userID, reason string) error {
	day, err := ParseDay(date)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 3 || n > 500 {
		return apperr.Field("reason", "say why the day is reopened (3 to 500 characters)")
	}
	return MapError(db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reconcile_days SET status = 'open', closed_at = NULL, closed_by = NULL
			WHERE community_id = $1 AND day = $2 AND status = 'closed'`, cid, day)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.Conflictf("day %s is not closed", date)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reconcile_day_events (community_id, day, action, reason, by_user) VALUES ($1, $2, 'reopened', $3, $4)`,
			cid, day, reason, nullUser(userID))
		return err
	}))
}

// DaySummary is one day of the calendar.
type DaySummary struct {
	Day      string       `db:"day" json:"day"`
	Status   string       `db:"status" json:"status"`
	Sales    int          `db:"sales" json:"sales"`
	Gross    money.Amount `db:"gross" json:"gross"`
	FundIn   money.Amount `db:"fund_in" json:"fund_in"`
	FundOut  money.Amount `db:"fund_out" json:"fund_out"`
	HasZ     bool         `db:"has_z" json:"has_z_report"`
	Reopened bool         `db:"reopened" json:"reopened"`
}

// Calendar lists the days from..to (inclusive) with their status and totals.
func (s *Service) Calendar(ctx context.Context, cid string, from, to time.Time) ([]DaySummary, error) {
	com, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	if to.Before(from) || to.Sub(from) > 400*24*time.Hour {
		return nil, apperr.Field("to", "choose up to 400 days")
	}
	out := []DaySummary{}
	err = s.DB.SelectContext(ctx, &out, `
		WITH days AS (SELECT d::date AS day FROM generate_series($2::date, $3::date, '1 day') d)
		SELECT to_char(days.day, 'YYYY-MM-DD') AS day, COALESCE(rd.status, 'open') AS status,
			COALESCE(o.n, 0) AS sales, COALESCE(o.gross, 0) AS gross,
			COALESCE((SELECT sum(original) FROM fund_lots l WHERE l.community_id = $1
				AND (l.at AT TIME ZONE $4)::date = days.day), 0) AS fund_in,
			COALESCE((SELECT sum(amount) FROM fund_disbursements fd WHERE fd.community_id = $1
				AND (fd.at AT TIME ZONE $4)::date = days.day), 0) AS fund_out,
			EXISTS (SELECT 1 FROM reconcile_zreports z WHERE z.community_id = $1 AND z.day = days.day) AS has_z,
			EXISTS (SELECT 1 FROM reconcile_day_events e WHERE e.community_id = $1 AND e.day = days.day AND e.action = 'reopened') AS reopened
		FROM days
		LEFT JOIN reconcile_days rd ON rd.community_id = $1 AND rd.day = days.day
		LEFT JOIN (SELECT business_day, count(*) AS n, sum(total) AS gross FROM orders
			WHERE community_id = $1 AND status = 'paid' AND business_day BETWEEN $2 AND $3 GROUP BY business_day) o ON o.business_day = days.day
		ORDER BY days.day`, cid, from, to, com.Timezone)
	if err != nil {
		return nil, fmt.Errorf("reconcile: calendar: %w", err)
	}
	return out, nil
}

// ReportCSV writes the day as CSV (UTF-8 with BOM, for Excel and WPS):
// totals, stalls, shifts, statements and issues, one section after another.
func ReportCSV(d *Day, label func(string) string) []byte {
	var b bytes.Buffer
	b.WriteString("\xef\xbb\xbf")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	put := func(rec ...string) { _ = w.Write(rec) }
	put(label("section"), label("item"), label("detail"), label("count"), label("amount"))
	put("day", d.Date, d.Status, "", "")
	put("sales", "total", "", fmt.Sprint(d.Sales.Count), d.Sales.Gross.String())
	for _, k := range sortedKeys(d.Sales.ByMethod) {
		put("sales", "method", k, "", d.Sales.ByMethod[k].String())
	}
	for _, k := range sortedKeys(d.Sales.ByProvider) {
		put("sales", "provider", k, "", d.Sales.ByProvider[k].String())
	}
	for _, st := range d.Sales.ByStall {
		put("stall", st.Name, "gross", fmt.Sprint(st.Count), st.Gross.String())
		put("stall", st.Name, "cash", "", st.Cash.String())
		put("stall", st.Name, "qr", "", st.QR.String())
		put("stall", st.Name, "refunds", "", st.Refunds.String())
	}
	put("refunds", "total", "", fmt.Sprint(d.Refunds.Count), d.Refunds.Amount.String())
	put("groupbuys", "total", "", fmt.Sprint(d.GroupBuys.Count), d.GroupBuys.Gross.String())
	put("fund", "in", "", "", d.FundIn.Gross.String())
	put("fund", "reversed", "", "", d.FundIn.Reversed.String())
	for _, e := range d.FundIn.ByEarmark {
		put("fund", "earmark", e.Name, "", e.Amount.String())
	}
	for _, sh := range d.Shifts {
		v := func(a *money.Amount) string {
			if a == nil {
				return ""
			}
			return a.String()
		}
		put("shift", sh.Stall, "float", "", sh.Float.String())
		put("shift", sh.Stall, "expected_cash", "", v(sh.ExpectedCash))
		put("shift", sh.Stall, "counted_cash", "", v(sh.CountedCash))
		put("shift", sh.Stall, "variance", "", v(sh.Variance))
	}
	for _, f := range d.Statements.Files {
		put("statement", f.Provider, f.Filename, fmt.Sprint(f.Rows), f.Payments.Sub(f.Refunds).String())
	}
	put("statement", "matched", "", fmt.Sprint(d.Statements.Matched), "")
	put("statement", "missing_in_statement", "", fmt.Sprint(d.Statements.MissingInStatement), "")
	put("statement", "missing_in_shelin", "", fmt.Sprint(d.Statements.MissingInShelin), "")
	put("statement", "amount_mismatch", "", fmt.Sprint(d.Statements.AmountMismatch), "")
	for _, is := range d.Issues {
		a := ""
		if is.Amount != nil {
			a = is.Amount.String()
		}
		put("issue", is.Kind, csvSafe(is.Ref+" "+is.Status+" "+is.Note), "", a)
	}
	w.Flush()
	return b.Bytes()
}

// csvSafe keeps a spreadsheet from reading text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func sortedKeys(m map[string]money.Amount) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
