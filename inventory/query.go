package inventory

import (
	"context"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
)

// Level is the stock of one product at one location.
type Level struct {
	ProductID    string `db:"product_id" json:"product_id"`
	LocationID   string `db:"location_id" json:"location_id"`
	ProductName  string `db:"product_name" json:"product_name"`
	SKU          string `db:"sku" json:"sku"`
	LocationName string `db:"location_name" json:"location_name"`
	OnHand       int    `db:"on_hand" json:"on_hand"`
	Reserved     int    `db:"reserved" json:"reserved"`
	Available    int    `db:"available" json:"available"`
	LowThreshold int    `db:"low_threshold" json:"low_threshold"`
	Low          bool   `db:"low" json:"low"`
}

const levelSelect = `SELECT s.product_id, s.location_id, p.name AS product_name, p.sku, l.name AS location_name,
	s.on_hand, s.reserved, s.on_hand - s.reserved AS available, s.low_threshold,
	(s.low_threshold > 0 AND s.on_hand - s.reserved <= s.low_threshold) AS low
	FROM stock_levels s JOIN products p ON p.id = s.product_id JOIN locations l ON l.id = s.location_id `

// Levels lists stock levels of the community, at one location when
// locationID is not empty.
func (s *Store) Levels(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string) ([]Level, error) {
	out := []Level{}
	if locationID != "" {
		if _, err := s.locationField(ctx, q, communityID, locationID, "location_id"); err != nil {
			return nil, err
		}
	}
	if !validID(communityID) {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, q, &out, levelSelect+`WHERE s.community_id = $1 AND ($2 = '' OR s.location_id::text = $2)
		ORDER BY l.kind DESC, l.name, p.group_name, p.sku`, communityID, locationID)
	return out, err
}

// LevelOf is the stock of one product at one location (zero when none).
func (s *Store) LevelOf(ctx context.Context, q sqlx.QueryerContext, communityID, productID, locationID string) (Level, error) {
	p, err := s.Product(ctx, q, communityID, productID)
	if err != nil {
		return Level{}, err
	}
	l, err := s.Location(ctx, q, communityID, locationID)
	if err != nil {
		return Level{}, err
	}
	var lv Level
	err = sqlx.GetContext(ctx, q, &lv, levelSelect+`WHERE s.product_id = $1 AND s.location_id = $2`, productID, locationID)
	if isNoRows(err) {
		return Level{ProductID: p.ID, LocationID: l.ID, ProductName: p.Name, SKU: p.SKU, LocationName: l.Name}, nil
	}
	return lv, err
}

// LowStock lists levels at or under their threshold (thresholds of 0 are off).
func (s *Store) LowStock(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Level, error) {
	out := []Level{}
	if !validID(communityID) {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, q, &out, levelSelect+`WHERE s.community_id = $1 AND s.low_threshold > 0
		AND s.on_hand - s.reserved <= s.low_threshold ORDER BY l.name, p.group_name, p.sku`, communityID)
	return out, err
}

// SetThreshold sets the low-stock threshold of a product at a location (0 turns it off).
func (s *Store) SetThreshold(ctx context.Context, tx *sqlx.Tx, communityID, productID, locationID string, threshold int) error {
	if threshold < 0 || threshold > 1_000_000 {
		return apperr.Field("low_threshold", "the threshold must be a whole number of 0 or more")
	}
	if _, err := s.Product(ctx, tx, communityID, productID); err != nil {
		return withField(err, "product_id")
	}
	if _, err := s.locationField(ctx, tx, communityID, locationID, "location_id"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stock_levels (community_id, product_id, location_id, low_threshold) VALUES ($1,$2,$3,$4)
		ON CONFLICT (product_id, location_id) DO UPDATE SET low_threshold = EXCLUDED.low_threshold`, communityID, productID, locationID, threshold)
	return err
}

func withField(err error, field string) error {
	if e, ok := apperr.As(err); ok {
		return e.WithField(field)
	}
	return err
}

// LotLevel is the stock of one lot at a location.
type LotLevel struct {
	LotID       string  `db:"lot_id" json:"lot_id"`
	ProductID   string  `db:"product_id" json:"product_id"`
	ProductName string  `db:"product_name" json:"product_name"`
	Code        string  `db:"code" json:"code"`
	BestBefore  *string `db:"best_before" json:"best_before"`
	OnHand      int     `db:"on_hand" json:"on_hand"`
	Expired     bool    `db:"expired" json:"expired"`
}

// Lots lists the lots with stock at a location, soonest best-before first.
func (s *Store) Lots(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string) ([]LotLevel, error) {
	if _, err := s.locationField(ctx, q, communityID, locationID, "location_id"); err != nil {
		return nil, err
	}
	today, err := s.today(ctx, q, communityID)
	if err != nil {
		return nil, err
	}
	out := []LotLevel{}
	err = sqlx.SelectContext(ctx, q, &out, `SELECT ls.lot_id, ls.product_id, p.name AS product_name, l.code,
			to_char(l.best_before, 'YYYY-MM-DD') AS best_before, ls.on_hand,
			COALESCE(l.best_before < $3::date, false) AS expired
		FROM lot_stock ls JOIN lots l ON l.id = ls.lot_id JOIN products p ON p.id = ls.product_id
		WHERE ls.community_id = $1 AND ls.location_id = $2 AND ls.on_hand > 0
		ORDER BY l.best_before NULLS LAST, p.group_name, p.sku`, communityID, locationID, today)
	return out, err
}

// Movement is one row of the stock log.
type Movement struct {
	ID           int64     `db:"id" json:"id,string"`
	Kind         string    `db:"kind" json:"kind"`
	ProductID    string    `db:"product_id" json:"product_id"`
	ProductName  string    `db:"product_name" json:"product_name"`
	LocationID   string    `db:"location_id" json:"location_id"`
	LocationName string    `db:"location_name" json:"location_name"`
	LotID        string    `db:"lot_id" json:"lot_id"`
	LotCode      string    `db:"lot_code" json:"lot_code"`
	BestBefore   *string   `db:"best_before" json:"best_before"`
	Qty          int       `db:"qty" json:"qty"`
	Ref          string    `db:"ref" json:"ref"`
	UserID       *string   `db:"user_id" json:"user_id"`
	At           time.Time `db:"at" json:"at"`
}

// MovementFilter selects movements, newest first. Cursor is the NextCursor of
// the previous page.
type MovementFilter struct {
	ProductID  string
	LocationID string
	Ref        string
	Limit      int // default 50, max 500
	Cursor     string
}

// Movements lists the stock log, newest first, a page at a time; next is ""
// on the last page.
func (s *Store) Movements(ctx context.Context, q sqlx.QueryerContext, communityID string, f MovementFilter) (items []Movement, next string, err error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		return nil, "", apperr.Field("limit", "limit must be between 1 and 500")
	}
	var before int64 = 1<<63 - 1
	if f.Cursor != "" {
		before, err = strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || before <= 0 {
			return nil, "", apperr.Field("cursor", "cursor is not valid")
		}
	}
	if f.ProductID != "" && !validID(f.ProductID) {
		return nil, "", apperr.NotFoundf("product not found").WithField("product_id")
	}
	if f.LocationID != "" && !validID(f.LocationID) {
		return nil, "", apperr.NotFoundf("location not found").WithField("location_id")
	}
	items = []Movement{}
	if !validID(communityID) {
		return items, "", nil
	}
	err = sqlx.SelectContext(ctx, q, &items, `SELECT m.id, m.kind, m.product_id, p.name AS product_name, m.location_id,
			l.name AS location_name, m.lot_id, lt.code AS lot_code, to_char(lt.best_before, 'YYYY-MM-DD') AS best_before,
			m.qty, m.ref, m.user_id, m.at
		FROM stock_movements m JOIN products p ON p.id = m.product_id JOIN locations l ON l.id = m.location_id
			JOIN lots lt ON lt.id = m.lot_id
		WHERE m.community_id = $1 AND m.id < $2
			AND ($3 = '' OR m.product_id::text = $3) AND ($4 = '' OR m.location_id::text = $4) AND ($5 = '' OR m.ref = $5)
		ORDER BY m.id DESC LIMIT $6`, communityID, before, f.ProductID, f.LocationID, f.Ref, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(items) > f.Limit {
		items = items[:f.Limit]
		next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return items, next, nil
}

// Mismatch is a stock level that disagrees with its movements or lots.
type Mismatch struct {
	CommunityID string `db:"community_id" json:"community_id"`
	ProductID   string `db:"product_id" json:"product_id"`
	LocationID  string `db:"location_id" json:"location_id"`
	OnHand      int    `db:"on_hand" json:"on_hand"`
	Movements   int    `db:"movements" json:"movements"`
	Lots        int    `db:"lots" json:"lots"`
	Reserved    int    `db:"reserved" json:"reserved"`
	Held        int    `db:"held" json:"held"`
}

// Verify checks, for one community (or all when communityID is ""), that
// every stock level's on hand equals the sum of its movements and of its
// lots, that every lot at a location equals the sum of its movements, and
// that reserved equals what held reservations hold. It returns the
// mismatches (empty when all is well).
func (s *Store) Verify(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Mismatch, error) {
	out := []Mismatch{}
	err := sqlx.SelectContext(ctx, q, &out, `
		WITH mv AS (
			SELECT community_id, product_id, location_id, sum(qty)::int AS qty FROM stock_movements
			WHERE $1 = '' OR community_id::text = $1 GROUP BY 1, 2, 3),
		lt AS (
			SELECT product_id, location_id, sum(on_hand)::int AS qty FROM lot_stock
			WHERE $1 = '' OR community_id::text = $1 GROUP BY 1, 2),
		held AS (
			SELECT r.location_id, rl.product_id, sum(rl.qty)::int AS qty
			FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
			WHERE r.state = 'held' AND rl.tracked AND ($1 = '' OR r.community_id::text = $1) GROUP BY 1, 2),
		lv AS (
			SELECT community_id, product_id, location_id, on_hand, reserved FROM stock_levels
			WHERE $1 = '' OR community_id::text = $1)
		SELECT COALESCE(lv.community_id, mv.community_id) AS community_id,
			COALESCE(lv.product_id, mv.product_id) AS product_id,
			COALESCE(lv.location_id, mv.location_id) AS location_id,
			COALESCE(lv.on_hand, 0) AS on_hand, COALESCE(mv.qty, 0) AS movements, COALESCE(lt.qty, 0) AS lots,
			COALESCE(lv.reserved, 0) AS reserved, COALESCE(held.qty, 0) AS held
		FROM lv FULL JOIN mv ON mv.product_id = lv.product_id AND mv.location_id = lv.location_id
			LEFT JOIN lt ON lt.product_id = COALESCE(lv.product_id, mv.product_id) AND lt.location_id = COALESCE(lv.location_id, mv.location_id)
			LEFT JOIN held ON held.product_id = COALESCE(lv.product_id, mv.product_id) AND held.location_id = COALESCE(lv.location_id, mv.location_id)
		WHERE COALESCE(lv.on_hand, 0) <> COALESCE(mv.qty, 0) OR COALESCE(lv.on_hand, 0) <> COALESCE(lt.qty, 0)
			OR COALESCE(lv.reserved, 0) <> COALESCE(held.qty, 0)`, communityID)
	if err != nil {
		return nil, err
	}
	// Lot by lot: lot_stock equals the sum of the lot's movements.
	var lotBad []Mismatch
	err = sqlx.SelectContext(ctx, q, &lotBad, `
		WITH mv AS (SELECT lot_id, location_id, sum(qty)::int AS qty FROM stock_movements
			WHERE $1 = '' OR community_id::text = $1 GROUP BY 1, 2)
		SELECT ls.community_id, ls.product_id, ls.location_id, ls.on_hand AS lots, COALESCE(mv.qty, 0) AS movements,
			0 AS on_hand, 0 AS reserved, 0 AS held
		FROM lot_stock ls LEFT JOIN mv ON mv.lot_id = ls.lot_id AND mv.location_id = ls.location_id
		WHERE ($1 = '' OR ls.community_id::text = $1) AND ls.on_hand <> COALESCE(mv.qty, 0)`, communityID)
	if err != nil {
		return nil, err
	}
	return append(out, lotBad...), nil
}
