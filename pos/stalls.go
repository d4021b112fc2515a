package pos

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
	"shelin/orders"
)

// Stall is an inventory location of kind stall with its order-number prefix.
type Stall struct {
	LocationID  string    `db:"location_id" json:"location_id"`
	CommunityID string    `db:"community_id" json:"community_id"`
	Name        string    `db:"name" json:"name"`
	Prefix      string    `db:"prefix" json:"prefix"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// SetupStall makes a stall location sellable at, with the prefix of its
// order numbers (e.g. "MD" for 牡丹园). Calling it again changes the prefix.
func (s *Service) SetupStall(ctx context.Context, tx *sqlx.Tx, communityID, locationID, prefix string) (*Stall, error) {
	if !orders.ValidPrefix(prefix) {
		return nil, apperr.Field("prefix", "the prefix must be 1–6 capital letters or digits, starting with a letter (e.g. MD)")
	}
	loc, err := s.Inventory.Location(ctx, tx, communityID, locationID)
	if err != nil {
		return nil, err
	}
	if loc.Kind != inventory.KindStall {
		return nil, apperr.Field("location_id", "%s is a %s, not a stall", loc.Name, loc.Kind)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pos_stalls (location_id, community_id, prefix) VALUES ($1,$2,$3)
		ON CONFLICT (location_id) DO UPDATE SET prefix=EXCLUDED.prefix`, locationID, communityID, prefix); err != nil {
		return nil, err
	}
	return s.Stall(ctx, tx, communityID, locationID)
}

// DefaultPrefix numbers the sales of a stall whose admin has not chosen a
// prefix yet (ST-1130-0042).
const DefaultPrefix = "ST"

// sellableStall returns the stall of a location for a write (a sale, a
// shift, a tablet). A location created with kind "stall" sells at once, as
// API.md promises: on first use it is set up with DefaultPrefix, which an
// admin may change later.
func (s *Service) sellableStall(ctx context.Context, tx *sqlx.Tx, communityID, locationID string) (*Stall, error) {
	st, err := s.Stall(ctx, tx, communityID, locationID)
	if !apperr.Is(err, apperr.NotFound) {
		return st, err
	}
	loc, lerr := s.Inventory.Location(ctx, tx, communityID, locationID)
	if lerr != nil || loc.Kind != inventory.KindStall {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pos_stalls (location_id, community_id, prefix) VALUES ($1,$2,$3)
		ON CONFLICT (location_id) DO NOTHING`, locationID, communityID, DefaultPrefix); err != nil {
		return nil, err
	}
	return s.Stall(ctx, tx, communityID, locationID)
}

// Stall returns a stall of the community.
func (s *Service) Stall(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string) (*Stall, error) {
	if !orders.ValidID(locationID) {
		return nil, apperr.NotFoundf("stall not found")
	}
	var st Stall
	err := sqlx.GetContext(ctx, q, &st, `SELECT s.location_id, s.community_id, l.name, s.prefix, s.created_at
		FROM pos_stalls s JOIN locations l ON l.id = s.location_id WHERE s.community_id=$1 AND s.location_id=$2`, communityID, locationID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("stall not found (set the location up as a stall first)")
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// Stalls lists the community's stalls.
func (s *Service) Stalls(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Stall, error) {
	out := []Stall{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT s.location_id, s.community_id, l.name, s.prefix, s.created_at
		FROM pos_stalls s JOIN locations l ON l.id = s.location_id WHERE s.community_id=$1 ORDER BY l.name`, communityID)
	return out, err
}
