// Package inventory owns the catalogue (products and their variants, prices
// and costs with history, images), locations (the neighbourhood centre store
// and park stalls), lots with best-before dates, stock levels, the append-only
// stock movement log, reservations with expiry, counts and low-stock
// thresholds.
//
// Rules the schema enforces whatever the code does: on hand and reserved are
// never negative and reserved never exceeds on hand; movements cannot be
// updated or deleted. Rules the code keeps and Verify proves: for every
// product and location, on hand equals the sum of its movements and the sum
// of its lots.
//
// Write operations take a *sqlx.Tx so that callers compose them in one
// transaction (checkout: order + Reserve + payment; payment confirmed: mark
// paid + Commit + ledger). Every call is scoped by community id; an id of
// another community is not_found.
package inventory

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Store is the inventory of every community in one database.
type Store struct {
	db *sqlx.DB
	// Now is the clock (tests move it to make lots expire). Defaults to time.Now.
	Now func() time.Time

	tzMu sync.Mutex
	tz   map[string]*time.Location
}

// New returns the inventory on d.
func New(d *sqlx.DB) *Store {
	return &Store{db: d, Now: time.Now, tz: map[string]*time.Location{}}
}

// DB is the database the store was built on.
func (s *Store) DB() *sqlx.DB { return s.db }

// Product is one sellable SKU. Variants of the same good (a box of 6, a box
// of 12) are separate products with the same GroupName.
type Product struct {
	ID          string       `db:"id" json:"id"`
	CommunityID string       `db:"community_id" json:"community_id"`
	SKU         string       `db:"sku" json:"sku"`
	Name        string       `db:"name" json:"name"`             // full name, e.g. 洛阳牡丹酥（6枚装）
	GroupName   string       `db:"group_name" json:"group_name"` // shared by variants, e.g. 洛阳牡丹酥
	NameEn      string       `db:"name_en" json:"name_en"`
	Price       money.Amount `db:"price" json:"price"`
	UnitCost    money.Amount `db:"unit_cost" json:"unit_cost"`
	Barcode     *string      `db:"barcode" json:"barcode"`
	ImageID     *string      `db:"image_id" json:"-"`
	ImageHash   *string      `db:"image_hash" json:"image_hash"`
	TrackStock  bool         `db:"track_stock" json:"track_stock"`
	Perishable  bool         `db:"perishable" json:"perishable"`
	Active      bool         `db:"active" json:"active"`
	// MakerName and MakerSharePercent describe consigned goods (a resident's
	// paintings): the maker receives MakerSharePercent of the sale price.
	// Empty and 0 for goods the community owns.
	MakerName         string          `db:"maker_name" json:"maker_name"`
	MakerSharePercent decimal.Decimal `db:"maker_share_percent" json:"maker_share_percent"`
	CreatedAt         time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time       `db:"updated_at" json:"updated_at"`
}

// Consigned reports whether the product is sold on behalf of a maker.
func (p Product) Consigned() bool { return p.MakerName != "" }

// Location kinds.
const (
	KindStore = "store" // the neighbourhood centre (邻里中心)
	KindStall = "stall" // a park stall for an event
)

// Location is where stock is.
type Location struct {
	ID          string    `db:"id" json:"id"`
	CommunityID string    `db:"community_id" json:"community_id"`
	Name        string    `db:"name" json:"name"`
	Kind        string    `db:"kind" json:"kind"`
	Active      bool      `db:"active" json:"active"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// Line is a quantity of one product.
type Line struct {
	ProductID string `json:"product_id"`
	Qty       int    `json:"qty"`
}

// Movement kinds.
const (
	MoveReceipt         = "receipt"
	MoveTransferOut     = "transfer_out"
	MoveTransferIn      = "transfer_in"
	MoveSale            = "sale"
	MoveRefundRestock   = "refund_restock"
	MoveCountAdjustment = "count_adjustment"
	MoveWriteOff        = "write_off"
)

// Reservation states.
const (
	ResHeld      = "held"
	ResCommitted = "committed"
	ResReleased  = "released"
	ResExpired   = "expired"
)

// Reservation holds stock for a sale or group-buy until commit or release.
type Reservation struct {
	ID          string    `db:"id" json:"id"`
	CommunityID string    `db:"community_id" json:"community_id"`
	LocationID  string    `db:"location_id" json:"location_id"`
	Ref         string    `db:"ref" json:"ref"`
	State       string    `db:"state" json:"state"`
	ExpiresAt   time.Time `db:"expires_at" json:"expires_at"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	// Owner, when set, is the only one that ends the reservation (see ReserveOwned).
	Owner string `db:"owner" json:"owner,omitempty"`
	Lines []Line `db:"-" json:"lines"`
}

// location of the community's business day (Asia/Shanghai unless set).
func (s *Store) location(ctx context.Context, q sqlx.QueryerContext, communityID string) (*time.Location, error) {
	s.tzMu.Lock()
	loc, ok := s.tz[communityID]
	s.tzMu.Unlock()
	if ok {
		return loc, nil
	}
	var name string
	if err := sqlx.GetContext(ctx, q, &name, `SELECT timezone FROM communities WHERE id = $1`, communityID); err != nil {
		if isNoRows(err) {
			return nil, apperr.NotFoundf("community not found")
		}
		return nil, err
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	s.tzMu.Lock()
	s.tz[communityID] = loc
	s.tzMu.Unlock()
	return loc, nil
}

// today is the community's current business date as YYYY-MM-DD.
func (s *Store) today(ctx context.Context, q sqlx.QueryerContext, communityID string) (string, error) {
	loc, err := s.location(ctx, q, communityID)
	if err != nil {
		return "", err
	}
	return s.Now().In(loc).Format(time.DateOnly), nil
}
