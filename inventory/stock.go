package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

func lineField(i int, name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }

func isFKViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23503"
}

// ShortError is the insufficient_stock error with the details a screen needs
// to say "库存不足：牡丹酥只剩 2 盒". apperr.As finds the *apperr.Error inside.
type ShortError struct {
	Err         *apperr.Error
	ProductID   string
	ProductName string
	Location    string
	Available   int // what could still be taken
	Expired     int // on hand but past best-before (not sellable)
}

func (e *ShortError) Error() string { return e.Err.Error() }
func (e *ShortError) Unwrap() error { return e.Err }

func shortError(field string, p Product, loc Location, available, expired int) error {
	if available < 0 {
		available = 0
	}
	msg := fmt.Sprintf("insufficient stock: only %d of %s left at %s", available, p.Name, loc.Name)
	if expired > 0 {
		msg += fmt.Sprintf(" (%d more are past their best-before date and cannot be sold; write them off)", expired)
	}
	e := apperr.New(apperr.InsufficientStock, "%s", msg)
	e.Field = field
	return &ShortError{Err: e, ProductID: p.ID, ProductName: p.Name, Location: loc.Name, Available: available, Expired: expired}
}

// mergeLines sums quantities per product, keeping the first index of each
// product for error fields, and rejects empty input and non-positive
// quantities. The result is sorted by product id (the lock order).
type mergedLine struct {
	ProductID string
	Qty       int
	Index     int
}

func mergeLines(lines []Line) ([]mergedLine, error) {
	if len(lines) == 0 {
		return nil, apperr.Field("lines", "at least one line is required")
	}
	if len(lines) > 500 {
		return nil, apperr.Field("lines", "at most 500 lines")
	}
	byID := map[string]*mergedLine{}
	var out []*mergedLine
	for i, l := range lines {
		if l.ProductID == "" {
			return nil, apperr.Field(lineField(i, "product_id"), "product_id is required")
		}
		if l.Qty <= 0 {
			return nil, apperr.Field(lineField(i, "qty"), "quantity must be a positive whole number")
		}
		if l.Qty > 1_000_000 {
			return nil, apperr.Field(lineField(i, "qty"), "quantity is too large")
		}
		if m, ok := byID[l.ProductID]; ok {
			m.Qty += l.Qty
			continue
		}
		m := &mergedLine{ProductID: l.ProductID, Qty: l.Qty, Index: i}
		byID[l.ProductID] = m
		out = append(out, m)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ProductID < out[b].ProductID })
	res := make([]mergedLine, len(out))
	for i, m := range out {
		res[i] = *m
	}
	return res, nil
}

func productIDs(ms []mergedLine) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ProductID
	}
	return ids
}

// productsFor loads the products of merged lines, naming the original line
// index in a not_found error.
func (s *Store) productsFor(ctx context.Context, q sqlx.QueryerContext, communityID string, ms []mergedLine) (map[string]Product, error) {
	ids := productIDs(ms)
	ps, err := s.ProductsByID(ctx, q, communityID, ids)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.NotFound {
			// Re-point the field at the caller's line index.
			var idx int
			fmt.Sscanf(e.Field, "lines[%d]", &idx)
			return nil, e.WithField(lineField(ms[idx].Index, "product_id"))
		}
		return nil, err
	}
	return ps, nil
}

type level struct {
	OnHand   int `db:"on_hand"`
	Reserved int `db:"reserved"`
}

// ensureLevel creates the (product, location) level row if needed and locks it.
func ensureLevel(ctx context.Context, tx *sqlx.Tx, communityID, productID, locationID string) (level, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO stock_levels (community_id, product_id, location_id) VALUES ($1,$2,$3)
		ON CONFLICT (product_id, location_id) DO NOTHING`, communityID, productID, locationID); err != nil {
		return level{}, err
	}
	var l level
	err := tx.GetContext(ctx, &l, `SELECT on_hand, reserved FROM stock_levels WHERE product_id = $1 AND location_id = $2 FOR UPDATE`, productID, locationID)
	return l, err
}

// lockLevel locks an existing level row; a missing one reads as zero.
func lockLevel(ctx context.Context, tx *sqlx.Tx, productID, locationID string) (level, bool, error) {
	var l level
	err := tx.GetContext(ctx, &l, `SELECT on_hand, reserved FROM stock_levels WHERE product_id = $1 AND location_id = $2 FOR UPDATE`, productID, locationID)
	if isNoRows(err) {
		return level{}, false, nil
	}
	return l, err == nil, err
}

// expiredQty is how much of a product at a location is in lots past their
// best-before date (today is still sellable).
func expiredQty(ctx context.Context, q sqlx.QueryerContext, productID, locationID, today string) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COALESCE(sum(ls.on_hand), 0) FROM lot_stock ls JOIN lots l ON l.id = ls.lot_id
		WHERE ls.product_id = $1 AND ls.location_id = $2 AND l.best_before < $3::date`, productID, locationID, today)
	return n, err
}

// ensureLot returns the lot of a product with that code and best-before.
func ensureLot(ctx context.Context, tx *sqlx.Tx, communityID, productID, code string, bestBefore *string) (string, error) {
	var id string
	var err error
	// A lot inserted by a concurrent transaction is not in this statement's
	// snapshot; the second try sees it.
	for try := 0; try < 2; try++ {
		err = tx.GetContext(ctx, &id, `WITH ins AS (
			INSERT INTO lots (community_id, product_id, code, best_before) VALUES ($1,$2,$3,$4::date)
			ON CONFLICT ON CONSTRAINT lots_product_id_code_best_before_key DO NOTHING RETURNING id)
		SELECT id FROM ins
		UNION ALL
		SELECT id FROM lots WHERE product_id = $2 AND code = $3 AND best_before IS NOT DISTINCT FROM $4::date
		LIMIT 1`, communityID, productID, code, bestBefore)
		if !isNoRows(err) {
			break
		}
	}
	return id, err
}

type movement struct {
	CommunityID string
	ProductID   string
	LocationID  string
	LotID       string
	Kind        string
	Qty         int
	Ref         string
	UserID      *string
}

// move appends a movement and applies it to the lot and the level, in one
// statement. The caller holds the level row lock.
func move(ctx context.Context, tx *sqlx.Tx, m movement) (int64, error) {
	// An INSERT ... ON CONFLICT checks the proposed row's constraints first,
	// so units leaving a lot update it instead.
	lotChange := `INSERT INTO lot_stock (community_id, lot_id, product_id, location_id, on_hand) VALUES ($1,$4,$2,$3,$6)
			ON CONFLICT (lot_id, location_id) DO UPDATE SET on_hand = lot_stock.on_hand + EXCLUDED.on_hand
			RETURNING 1`
	if m.Qty < 0 {
		lotChange = `UPDATE lot_stock SET on_hand = on_hand + $6 WHERE lot_id = $4 AND location_id = $3 RETURNING 1`
	}
	var id int64
	err := tx.GetContext(ctx, &id, `WITH mv AS (
			INSERT INTO stock_movements (community_id, product_id, location_id, lot_id, kind, qty, ref, user_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id),
		lt AS (`+lotChange+`),
		lv AS (
			UPDATE stock_levels SET on_hand = on_hand + $6, updated_at = now()
			WHERE product_id = $2 AND location_id = $3 RETURNING 1)
		SELECT id FROM mv, lt, lv`,
		m.CommunityID, m.ProductID, m.LocationID, m.LotID, m.Kind, m.Qty, m.Ref, m.UserID)
	if isNoRows(err) {
		return 0, fmt.Errorf("inventory: no stock level row for product %s at %s", m.ProductID, m.LocationID)
	}
	return id, err
}

type lotTake struct {
	LotID string
	Qty   int
}

// takeLots chooses which lots qty units leave from: lots still good first,
// earliest best-before first (FEFO), undated lots after dated ones, expired
// lots last. The caller holds the level lock, so lot_stock is stable.
func takeLots(ctx context.Context, tx *sqlx.Tx, productID, locationID, today string, qty int, expiredFirst bool) ([]lotTake, error) {
	var rows []struct {
		LotID  string `db:"lot_id"`
		OnHand int    `db:"on_hand"`
	}
	order := `(l.best_before IS NOT NULL AND l.best_before < $3::date)`
	if expiredFirst {
		order += ` DESC`
	}
	err := tx.SelectContext(ctx, &rows, `SELECT ls.lot_id, ls.on_hand FROM lot_stock ls JOIN lots l ON l.id = ls.lot_id
		WHERE ls.product_id = $1 AND ls.location_id = $2 AND ls.on_hand > 0
		ORDER BY `+order+`, l.best_before NULLS LAST, l.created_at, l.id`, productID, locationID, today)
	if err != nil {
		return nil, err
	}
	var out []lotTake
	left := qty
	for _, r := range rows {
		if left == 0 {
			break
		}
		n := min(left, r.OnHand)
		out = append(out, lotTake{r.LotID, n})
		left -= n
	}
	if left > 0 {
		return nil, fmt.Errorf("inventory: lots of product %s at %s hold %d less than the level says", productID, locationID, left)
	}
	return out, nil
}

// restockLot is where returned or surplus units go: the lot this product last
// left this location from, else the newest lot with stock here, else the
// product's plain lot.
func restockLot(ctx context.Context, tx *sqlx.Tx, communityID, productID, locationID string) (string, error) {
	var id string
	err := tx.GetContext(ctx, &id, `SELECT lot_id FROM (
			(SELECT lot_id, 1 AS pref FROM stock_movements WHERE product_id = $1 AND location_id = $2 AND qty < 0 ORDER BY id DESC LIMIT 1)
			UNION ALL
			(SELECT ls.lot_id, 2 FROM lot_stock ls JOIN lots l ON l.id = ls.lot_id
			 WHERE ls.product_id = $1 AND ls.location_id = $2 ORDER BY l.best_before DESC NULLS LAST, l.created_at DESC LIMIT 1)
		) x ORDER BY pref LIMIT 1`, productID, locationID)
	if err == nil {
		return id, nil
	}
	if !isNoRows(err) {
		return "", err
	}
	return ensureLot(ctx, tx, communityID, productID, "", nil)
}

// mapStockErr turns a CHECK violation on stock levels into insufficient_stock.
func mapStockErr(err error) error {
	if db.IsCheckViolation(err, "stock_on_hand_non_negative") || db.IsCheckViolation(err, "stock_reserved_within_on_hand") ||
		db.IsCheckViolation(err, "stock_reserved_non_negative") || db.IsCheckViolation(err, "lot_stock_on_hand_check") {
		return apperr.New(apperr.InsufficientStock, "not enough stock for this change")
	}
	return err
}
