package pos

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/orders"
)

// Shift is a volunteer's turn at a stall with its cash drawer.
type Shift struct {
	ID           string        `db:"id" json:"id"`
	CommunityID  string        `db:"community_id" json:"community_id"`
	LocationID   string        `db:"location_id" json:"location_id"`
	DeviceID     *string       `db:"device_id" json:"device_id,omitempty"`
	OpenedBy     string        `db:"opened_by" json:"opened_by"`
	OpeningFloat money.Amount  `db:"opening_float" json:"opening_float"`
	OpenedAt     time.Time     `db:"opened_at" json:"opened_at"`
	HandoverFrom *string       `db:"handover_from" json:"handover_from,omitempty"`
	Blind        bool          `db:"blind" json:"blind"`
	ClosedBy     *string       `db:"closed_by" json:"closed_by,omitempty"`
	ClosedAt     *time.Time    `db:"closed_at" json:"closed_at,omitempty"`
	CashSales    *money.Amount `db:"cash_sales" json:"cash_sales,omitempty"`
	CashRefunds  *money.Amount `db:"cash_refunds" json:"cash_refunds,omitempty"`
	ExpectedCash *money.Amount `db:"expected_cash" json:"expected_cash,omitempty"`
	CountedCash  *money.Amount `db:"counted_cash" json:"counted_cash,omitempty"`
	Variance     *money.Amount `db:"variance" json:"variance,omitempty"`
	// FloatAdvanced is the petty cash the drawer owes back at close (the
	// opening float, carried over on a handover).
	FloatAdvanced money.Amount  `db:"float_advanced" json:"float_advanced"`
	HandedOver    bool          `db:"handed_over" json:"handed_over"`
	Deposited     *money.Amount `db:"deposited" json:"deposited,omitempty"`
}

const shiftCols = `id, community_id, location_id, device_id, opened_by, opening_float, opened_at, handover_from, blind,
	closed_by, closed_at, cash_sales, cash_refunds, expected_cash, counted_cash, variance, float_advanced, handed_over, deposited`

// OpenShift describes a shift to open.
type OpenShift struct {
	LocationID   string
	DeviceID     string
	UserID       string
	OpeningFloat money.Amount
	Blind        bool   // the volunteer counts without seeing the expected amount
	HandoverFrom string // set by Handover
	floatCarried money.Amount
}

// Open starts a shift at a stall; a stall has at most one open shift. The
// float comes from the community's petty cash into the drawer (Dr cash
// drawer, Cr cash float); a handover's drawer already holds it.
func (s *Service) Open(ctx context.Context, tx *sqlx.Tx, communityID string, in OpenShift) (*Shift, error) {
	if in.OpeningFloat.IsNegative() {
		return nil, apperr.Field("opening_float", "the float must not be negative")
	}
	if _, err := s.sellableStall(ctx, tx, communityID, in.LocationID); err != nil {
		return nil, err
	}
	advanced := in.OpeningFloat
	if in.HandoverFrom != "" {
		advanced = in.floatCarried
	}
	var sh Shift
	err := tx.GetContext(ctx, &sh, `INSERT INTO pos_shifts (community_id, location_id, device_id, opened_by, opening_float, blind, handover_from, opened_at, float_advanced)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING `+shiftCols,
		communityID, in.LocationID, nullable(in.DeviceID), in.UserID, in.OpeningFloat, in.Blind, nullable(in.HandoverFrom), s.now(), advanced)
	if db.IsUniqueViolation(err, "pos_shifts_one_open") {
		return nil, apperr.Conflictf("a shift is already open at this stall; close it or take it over first")
	}
	if err != nil {
		return nil, err
	}
	if in.HandoverFrom == "" && in.OpeningFloat.IsPositive() {
		if _, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: communityID, SourceKind: "shift_float", SourceID: sh.ID,
			Debit: fund.CashDrawer(in.LocationID), Credit: fund.CashFloat(), Amount: in.OpeningFloat, Memo: "opening float", At: s.now()}); err != nil {
			return nil, err
		}
	}
	return &sh, nil
}

// CurrentShift returns the open shift of a stall, or not_found.
func (s *Service) CurrentShift(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string) (*Shift, error) {
	if !orders.ValidID(locationID) {
		return nil, apperr.NotFoundf("no open shift at this stall")
	}
	return getShift(ctx, q, `community_id=$1 AND location_id=$2 AND closed_at IS NULL`, communityID, locationID)
}

// GetShift returns a shift of the community.
func (s *Service) GetShift(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Shift, error) {
	if !orders.ValidID(id) {
		return nil, apperr.NotFoundf("shift not found")
	}
	return getShift(ctx, q, `community_id=$1 AND id=$2`, communityID, id)
}

func getShift(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Shift, error) {
	var sh Shift
	err := sqlx.GetContext(ctx, q, &sh, `SELECT `+shiftCols+` FROM pos_shifts WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("no open shift at this stall")
	}
	if err != nil {
		return nil, err
	}
	return &sh, nil
}

// Shifts lists a community's shifts opened on a business day (YYYY-MM-DD, the
// community's time zone), for the day page.
func (s *Service) Shifts(ctx context.Context, q sqlx.QueryerContext, communityID, day string) ([]Shift, error) {
	out := []Shift{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+shiftCols+` FROM pos_shifts sh
		WHERE community_id=$1 AND (opened_at AT TIME ZONE (SELECT timezone FROM communities WHERE id=$1))::date = $2::date
		ORDER BY opened_at`, communityID, day)
	return out, err
}

// Drawer is the cash a shift's drawer should hold.
type Drawer struct {
	OpeningFloat money.Amount `json:"opening_float"`
	CashSales    money.Amount `json:"cash_sales"`
	CashRefunds  money.Amount `json:"cash_refunds"`
	Expected     money.Amount `json:"expected_cash"`
}

// DrawerOf sums a shift's cash: float + cash sales paid − cash refunds.
func DrawerOf(ctx context.Context, q sqlx.QueryerContext, sh *Shift) (Drawer, error) {
	d := Drawer{OpeningFloat: sh.OpeningFloat}
	if err := sqlx.GetContext(ctx, q, &d.CashSales, `SELECT COALESCE(sum(o.total), 0) FROM pos_sales ps
		JOIN orders o ON o.id = ps.order_id JOIN payments p ON p.order_id = o.id
		WHERE ps.shift_id=$1 AND p.method='cash' AND o.status='paid'`, sh.ID); err != nil {
		return d, err
	}
	if err := sqlx.GetContext(ctx, q, &d.CashRefunds, `SELECT COALESCE(sum(r.amount), 0) FROM pos_refunds pr
		JOIN refunds r ON r.id = pr.refund_id WHERE pr.shift_id=$1 AND pr.cash AND r.status='succeeded'`, sh.ID); err != nil {
		return d, err
	}
	d.Expected = d.OpeningFloat.Add(d.CashSales).Sub(d.CashRefunds)
	return d, nil
}

// Close ends a shift with the cash counted in the drawer, keeps the
// variance (counted − expected) and settles the drawer in the ledger: the
// variance goes to cash over/short, the float back to petty cash and the rest
// of the counted cash to the bank (the community's safe), leaving the drawer
// at zero.
func (s *Service) Close(ctx context.Context, tx *sqlx.Tx, communityID, shiftID string, counted money.Amount, closedBy string) (*Shift, error) {
	return s.close(ctx, tx, communityID, shiftID, counted, closedBy, false)
}

func (s *Service) close(ctx context.Context, tx *sqlx.Tx, communityID, shiftID string, counted money.Amount, closedBy string, handover bool) (*Shift, error) {
	if counted.IsNegative() {
		return nil, apperr.Field("counted_cash", "the counted cash must not be negative")
	}
	if !orders.ValidID(shiftID) {
		return nil, apperr.NotFoundf("shift not found")
	}
	sh, err := getShift(ctx, tx, `community_id=$1 AND id=$2 FOR UPDATE`, communityID, shiftID)
	if err != nil {
		return nil, err
	}
	if sh.ClosedAt != nil {
		return nil, apperr.Conflictf("this shift is already closed")
	}
	d, err := DrawerOf(ctx, tx, sh)
	if err != nil {
		return nil, err
	}
	variance := counted.Sub(d.Expected)
	floatBack, deposit := money.Zero, money.Zero
	if !handover {
		floatBack = money.Min(sh.FloatAdvanced, counted)
		deposit = counted.Sub(floatBack)
	}
	err = tx.GetContext(ctx, sh, `UPDATE pos_shifts SET closed_by=$2, closed_at=$3, cash_sales=$4, cash_refunds=$5, expected_cash=$6,
		counted_cash=$7, variance=$8, handed_over=$9, deposited=$10 WHERE id=$1 RETURNING `+shiftCols,
		sh.ID, closedBy, s.now(), d.CashSales, d.CashRefunds, d.Expected, counted, variance, handover, deposit)
	if err != nil {
		return nil, err
	}
	drawer := fund.CashDrawer(sh.LocationID)
	post := func(kind string, debit, credit fund.AccountRef, amount money.Amount, memo string) error {
		if !amount.IsPositive() {
			return nil
		}
		_, err := s.Fund.PostTransfer(ctx, tx, fund.Transfer{CommunityID: communityID, SourceKind: kind, SourceID: sh.ID,
			Debit: debit, Credit: credit, Amount: amount, Memo: memo, At: s.now()})
		return err
	}
	if err := post("shift_over", drawer, fund.CashOverShort(), variance, "cash over at shift close"); err != nil {
		return nil, err
	}
	if err := post("shift_short", fund.CashOverShort(), drawer, variance.Neg(), "cash short at shift close"); err != nil {
		return nil, err
	}
	if err := post("shift_float_back", fund.CashFloat(), drawer, floatBack, "float back to petty cash"); err != nil {
		return nil, err
	}
	if err := post("shift_deposit", fund.Bank(), drawer, deposit, "counted cash to the safe"); err != nil {
		return nil, err
	}
	return sh, nil
}

// Handover closes a shift with the counted cash and opens the next one for
// another volunteer, whose float is the counted cash (the drawer stays, so
// nothing is deposited; only the variance is booked).
func (s *Service) Handover(ctx context.Context, tx *sqlx.Tx, communityID, shiftID string, counted money.Amount, from, to, deviceID string) (closed, opened *Shift, err error) {
	closed, err = s.close(ctx, tx, communityID, shiftID, counted, from, true)
	if err != nil {
		return nil, nil, err
	}
	opened, err = s.Open(ctx, tx, communityID, OpenShift{LocationID: closed.LocationID, DeviceID: deviceID, UserID: to,
		OpeningFloat: counted, Blind: closed.Blind, HandoverFrom: closed.ID, floatCarried: closed.FloatAdvanced})
	return closed, opened, err
}
