// Package reconcile is the fund treasurer's day: what was sold, refunded and
// paid into the fund on a business day (the community's time zone), the
// cash counted at each shift, provider statements matched against payments
// and refunds and settled from provider clearing to the bank, the day's
// issues and their resolution, closing the day (after which the database
// refuses writes dated that day) and the hash-chained Z-report.
//
// It builds on orders, pos and fund and never imports the web layer.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/pos"
)

// Service is the treasurer's day. POS (for the whole-system verify) may be
// nil, then verify problems are not listed.
type Service struct {
	DB   *sqlx.DB
	Fund *fund.Ledger
	IDs  *identity.Service
	POS  *pos.Service
	Now  func() time.Time
}

// New returns a service on d.
func New(d *sqlx.DB, ids *identity.Service, p *pos.Service) *Service {
	return &Service{DB: d, Fund: fund.New(d), IDs: ids, POS: p}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// DayClosedState is the SQLSTATE the database raises for a write dated a
// closed business day (migration 00600).
const DayClosedState = "SH409"

// MapError turns the database's refusal of a write into a closed day into
// the error code day_closed; any other error is returned as it is.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pq.Error
	if errors.As(err, &pe) && string(pe.Code) == DayClosedState {
		return apperr.New(apperr.DayClosed, "business day %s is closed; record late corrections on the next open day", pe.Hint)
	}
	if _, ok := apperr.As(err); !ok && strings.Contains(err.Error(), "day_closed: business day") {
		return apperr.New(apperr.DayClosed, "this business day is closed; record late corrections on the next open day")
	}
	return err
}

// ParseDay reads a YYYY-MM-DD business day.
func ParseDay(s string) (time.Time, error) {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, apperr.Field("date", "a day is written YYYY-MM-DD, like 2026-11-30")
	}
	return d, nil
}

// bounds returns the first moment of day and of the next day in loc.
func bounds(day time.Time, loc *time.Location) (time.Time, time.Time) {
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// Today is the business day of t in loc.
func Today(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }

func (s *Service) community(ctx context.Context, cid string) (identity.Community, error) {
	if s.IDs == nil {
		var c identity.Community
		err := s.DB.GetContext(ctx, &c, `SELECT id, name, slug, timezone, created_at FROM communities WHERE id = $1`, cid)
		if err != nil {
			return c, apperr.NotFoundf("community not found")
		}
		return c, nil
	}
	return s.IDs.Community(ctx, cid)
}

// dayStatus returns "open" or "closed" and when it was closed.
func dayStatus(ctx context.Context, q sqlx.QueryerContext, cid string, day time.Time) (string, *time.Time, error) {
	var row struct {
		Status   string     `db:"status"`
		ClosedAt *time.Time `db:"closed_at"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT status, closed_at FROM reconcile_days WHERE community_id = $1 AND day = $2`, cid, day)
	if err != nil {
		if isNoRows(err) {
			return "open", nil, nil
		}
		return "", nil, fmt.Errorf("reconcile: day status: %w", err)
	}
	return row.Status, row.ClosedAt, nil
}

func isNoRows(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no rows in result set")
}
