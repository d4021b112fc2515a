package inventory

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

const locationCols = `id, community_id, name, kind, active, created_at`

// CreateLocation adds a store or a stall.
func (s *Store) CreateLocation(ctx context.Context, tx *sqlx.Tx, communityID, name, kind string) (Location, error) {
	name = strings.TrimSpace(name)
	if err := checkName("name", name, true); err != nil {
		return Location{}, err
	}
	if kind != KindStore && kind != KindStall {
		return Location{}, apperr.Field("kind", "kind must be \"store\" or \"stall\"")
	}
	if !validID(communityID) {
		return Location{}, apperr.NotFoundf("community not found")
	}
	var l Location
	err := tx.GetContext(ctx, &l, `INSERT INTO locations (community_id, name, kind) VALUES ($1,$2,$3) RETURNING `+locationCols,
		communityID, name, kind)
	switch {
	case db.IsUniqueViolation(err, ""):
		return Location{}, apperr.Conflictf("a location named %q already exists", name).WithField("name")
	case isFKViolation(err):
		return Location{}, apperr.NotFoundf("community not found")
	}
	return l, err
}

// Location returns one location of the community, or not_found.
func (s *Store) Location(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string) (Location, error) {
	var l Location
	if !validID(locationID) || !validID(communityID) {
		return l, apperr.NotFoundf("location not found")
	}
	err := sqlx.GetContext(ctx, q, &l, `SELECT `+locationCols+` FROM locations WHERE community_id = $1 AND id = $2`, communityID, locationID)
	if isNoRows(err) {
		return l, apperr.NotFoundf("location not found")
	}
	return l, err
}

// locationField is Location with the input field named in a not_found error.
func (s *Store) locationField(ctx context.Context, q sqlx.QueryerContext, communityID, locationID, field string) (Location, error) {
	l, err := s.Location(ctx, q, communityID, locationID)
	if e, ok := apperr.As(err); ok {
		return l, e.WithField(field)
	}
	return l, err
}

// Locations lists the community's locations, stores first.
func (s *Store) Locations(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Location, error) {
	out := []Location{}
	if !validID(communityID) {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+locationCols+` FROM locations WHERE community_id = $1 ORDER BY kind DESC, name`, communityID)
	return out, err
}

// SetLocationActive opens or closes a location (a stall after an event).
func (s *Store) SetLocationActive(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, active bool) error {
	if _, err := s.Location(ctx, tx, communityID, locationID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE locations SET active = $3 WHERE community_id = $1 AND id = $2`, communityID, locationID, active)
	return err
}
