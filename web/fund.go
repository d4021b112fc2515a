package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/idem"
	"shelin/internal/money"
)

// Shared pieces of the fund handlers (fund_*.go, ledger_*.go, project_*.go,
// trace_*.go, donation_*.go, public_fund_*.go, page_fund_*.go).

// fundLedger returns the fund service (a thin value over the pool).
func (s *Server) fundLedger() *fund.Ledger { return fund.New(s.db) }

// Who may do what with the fund.
var (
	fundManagers     = managers    // admin, treasurer: ledger, disbursements, donations
	fundApprovers    = admins      // approval and rules
	projectProposers = leaders     // admin, 邻长
	projectHelpers   = fundReaders // admin, treasurer, 邻长: contributions, completion
)

// fundJSON is GET {c}/fund.
type fundJSON struct {
	Balance      money.Amount  `json:"balance"`
	Available    money.Amount  `json:"available"`
	Committed    money.Amount  `json:"committed"`
	Deficit      money.Amount  `json:"deficit"`
	Earmarks     []earmarkJSON `json:"earmarks"`
	InflowTotal  money.Amount  `json:"inflow_total"`
	OutflowTotal money.Amount  `json:"outflow_total"`
	RulesVersion int           `json:"rules_version"`
}

type earmarkJSON struct {
	Name    string       `json:"name"`
	Balance money.Amount `json:"balance"`
}

func toFundJSON(s fund.Summary) fundJSON {
	out := fundJSON{Balance: s.Balance, Available: s.Available, Committed: s.Committed, Deficit: s.Deficit,
		InflowTotal: s.InflowTotal, OutflowTotal: s.OutflowTotal, RulesVersion: s.RulesVersion, Earmarks: []earmarkJSON{}}
	for _, e := range s.Earmarks {
		out.Earmarks = append(out.Earmarks, earmarkJSON{Name: e.Name, Balance: e.Amount})
	}
	return out
}

// parseDay reads a from/to filter: a YYYY-MM-DD business day in the
// community's time zone (to is inclusive: the day's end) or an RFC 3339 time.
func parseDay(c *fiber.Ctx, field string, end bool) (time.Time, error) {
	v := strings.TrimSpace(c.Query(field))
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, community(c).Location())
	if err != nil {
		return time.Time{}, apperr.Field(field, "%s must be a date like 2026-11-30 or an RFC 3339 time", field)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// earmarkLabel is how people read an earmark name.
func earmarkLabel(lang, name string) string {
	if name == fund.General {
		if lang == langEN {
			return "general"
		}
		return "通用"
	}
	return name
}

// imageType sniffs a JPEG or PNG upload.
func imageType(b []byte) string {
	switch ct := http.DetectContentType(b); ct {
	case "image/jpeg", "image/png":
		return ct
	}
	return ""
}

// earmarkView is an earmark as pages show it.
type earmarkView struct {
	Name    string
	Label   string
	Balance money.Amount
}

// formOnce runs a page form's write at most once per its hidden _idem key
// (a double tap or a resubmitted form does not pay or record twice).
func (s *Server) formOnce(c *fiber.Ctx, step func(tx *sqlx.Tx) error) error {
	key := strings.Clone(c.FormValue("_idem"))
	if key == "" {
		return apperr.Field("_idem", "the form is missing its one-time key; reload the page")
	}
	body := append([]byte(nil), c.Body()...)
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		body = []byte(fmt.Sprint(mf.Value))
	}
	hash := idem.Hash([]byte(c.Method()), []byte(c.Path()), body)
	_, err := idem.Do(c.UserContext(), s.db, community(c).ID, "form:"+key, hash, func(tx *sqlx.Tx) (int, []byte, error) {
		if err := step(tx); err != nil {
			return 0, nil, err
		}
		return fiber.StatusSeeOther, []byte("{}"), nil
	})
	return err
}

// newFormKey is the hidden _idem value of a form.
func newFormKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// apperrOf returns the error a person can act on in a form: invalid input
// or a conflict (not found and the rest go to the error page).
func apperrOf(err error) (*apperr.Error, bool) {
	e, ok := apperr.As(err)
	if !ok || (e.Code != apperr.Invalid && e.Code != apperr.Conflict && e.Code != apperr.IdempotencyConflict) {
		return nil, false
	}
	return e, true
}

// statusOf is the HTTP status of an error code (see errors.go).
func statusOf(e *apperr.Error) int {
	if v, ok := status[e.Code]; ok {
		return v
	}
	return http.StatusBadRequest
}
