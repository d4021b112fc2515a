package inventory

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/internal/apperr"
	"shelin/internal/jobs"
)

// Reserve holds stock of lines at a location until Commit, Release or
// expiresAt. Products that do not track stock are recorded without a check.
// When any line is short, the answer is insufficient_stock (a *ShortError
// naming the product and what is left) and nothing is held; the caller's
// transaction should then roll back. A durable job releases the reservation at
// expiresAt unless it was committed or released before.
func (s *Store) Reserve(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, lines []Line, ref string, expiresAt time.Time) (Reservation, error) {
	return s.reserve(ctx, tx, communityID, locationID, lines, ref, expiresAt, "")
}

// ReserveOwned holds stock like Reserve for an owner (e.g. "pos_sale") that
// alone ends the reservation with Commit or Release: no expiry job is
// scheduled and the expiry sweep never touches it, so the stock of a sale
// that is still awaiting payment cannot be released behind its back.
// expiresAt is informational (when the owner expects to decide).
func (s *Store) ReserveOwned(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, lines []Line, ref, owner string, expiresAt time.Time) (Reservation, error) {
	if owner == "" || len(owner) > 40 {
		return Reservation{}, apperr.Field("owner", "an owned reservation names its owner (1–40 characters)")
	}
	return s.reserve(ctx, tx, communityID, locationID, lines, ref, expiresAt, owner)
}

func (s *Store) reserve(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, lines []Line, ref string, expiresAt time.Time, owner string) (Reservation, error) {
	ms, err := mergeLines(lines)
	if err != nil {
		return Reservation{}, err
	}
	if len(ref) > 200 {
		return Reservation{}, apperr.Field("ref", "ref is too long")
	}
	// An owned reservation's expiry is only informational (its owner ends
	// it), so another replica's clock cannot refuse it.
	if owner == "" && !expiresAt.After(s.Now()) {
		return Reservation{}, apperr.Field("expires_at", "a reservation must expire in the future")
	}
	loc, err := s.locationField(ctx, tx, communityID, locationID, "location_id")
	if err != nil {
		return Reservation{}, err
	}
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return Reservation{}, err
	}
	today := ""
	for _, m := range ms {
		p := ps[m.ProductID]
		if !p.Active {
			return Reservation{}, apperr.Field(lineField(m.Index, "product_id"), "%s is not for sale (inactive)", p.Name)
		}
		if p.Perishable && today == "" {
			if today, err = s.today(ctx, tx, communityID); err != nil {
				return Reservation{}, err
			}
		}
	}
	// Row locks on stock levels are taken last, so that a hot product's row
	// is held for as short a time as possible.
	r := Reservation{CommunityID: communityID, LocationID: locationID, Ref: ref, State: ResHeld}
	err = tx.QueryRowxContext(ctx, `INSERT INTO reservations (community_id, location_id, ref, expires_at, owner) VALUES ($1,$2,$3,$4,$5)
		RETURNING id, expires_at, created_at`, communityID, locationID, ref, expiresAt, owner).Scan(&r.ID, &r.ExpiresAt, &r.CreatedAt)
	if err != nil {
		return Reservation{}, err
	}
	pids := make([]string, len(ms))
	qtys := make([]int64, len(ms))
	tracked := make([]bool, len(ms))
	for i, m := range ms {
		pids[i], qtys[i], tracked[i] = m.ProductID, int64(m.Qty), ps[m.ProductID].TrackStock
		r.Lines = append(r.Lines, Line{ProductID: m.ProductID, Qty: m.Qty})
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reservation_lines (reservation_id, product_id, qty, tracked)
		SELECT $1, unnest($2::uuid[]), unnest($3::int[]), unnest($4::bool[])`,
		r.ID, pq.Array(pids), pq.Array(qtys), pq.Array(tracked)); err != nil {
		return Reservation{}, err
	}
	if owner == "" {
		if _, err := jobs.Insert(ctx, tx, ExpireReservationArgs{CommunityID: communityID, ReservationID: r.ID},
			&jobs.InsertOpts{ScheduledAt: r.ExpiresAt}); err != nil {
			return Reservation{}, err
		}
	}
	for _, m := range ms {
		p := ps[m.ProductID]
		if !p.TrackStock {
			continue
		}
		if err := s.reserveLine(ctx, tx, p, loc, m, today); err != nil {
			return Reservation{}, err
		}
	}
	return r, nil
}

func (s *Store) reserveLine(ctx context.Context, tx *sqlx.Tx, p Product, loc Location, m mergedLine, today string) error {
	field := lineField(m.Index, "qty")
	if !p.Perishable {
		// One statement: waits for the row lock, then re-checks availability
		// on the newest row version.
		var lv level
		err := tx.GetContext(ctx, &lv, `UPDATE stock_levels SET reserved = reserved + $3, updated_at = now()
			WHERE product_id = $1 AND location_id = $2 AND on_hand - reserved >= $3 RETURNING on_hand, reserved`,
			p.ID, loc.ID, m.Qty)
		if err == nil {
			return nil
		}
		if !isNoRows(err) {
			return err
		}
		cur, _, err := lockLevel(ctx, tx, p.ID, loc.ID)
		if err != nil {
			return err
		}
		return shortError(field, p, loc, cur.OnHand-cur.Reserved, 0)
	}
	cur, _, err := lockLevel(ctx, tx, p.ID, loc.ID)
	if err != nil {
		return err
	}
	expired, err := expiredQty(ctx, tx, p.ID, loc.ID, today)
	if err != nil {
		return err
	}
	avail := cur.OnHand - cur.Reserved - expired
	if avail < m.Qty {
		return shortError(field, p, loc, avail, expired)
	}
	_, err = tx.ExecContext(ctx, `UPDATE stock_levels SET reserved = reserved + $3, updated_at = now() WHERE product_id = $1 AND location_id = $2`,
		p.ID, loc.ID, m.Qty)
	return err
}

type resLine struct {
	ProductID string `db:"product_id"`
	Qty       int    `db:"qty"`
	Tracked   bool   `db:"tracked"`
}

// lockReservation locks the reservation row and reads its lines.
func lockReservation(ctx context.Context, tx *sqlx.Tx, communityID, reservationID string) (Reservation, []resLine, string, error) {
	var r struct {
		Reservation
		CommitRef string `db:"commit_ref"`
	}
	if !validID(reservationID) || !validID(communityID) {
		return Reservation{}, nil, "", apperr.NotFoundf("reservation not found")
	}
	err := tx.GetContext(ctx, &r, `SELECT id, community_id, location_id, ref, state, expires_at, created_at, commit_ref, owner
		FROM reservations WHERE community_id = $1 AND id = $2 FOR UPDATE`, communityID, reservationID)
	if isNoRows(err) {
		return Reservation{}, nil, "", apperr.NotFoundf("reservation not found")
	}
	if err != nil {
		return Reservation{}, nil, "", err
	}
	var lines []resLine
	if err := tx.SelectContext(ctx, &lines, `SELECT product_id, qty, tracked FROM reservation_lines WHERE reservation_id = $1 ORDER BY product_id`, reservationID); err != nil {
		return Reservation{}, nil, "", err
	}
	for _, l := range lines {
		r.Lines = append(r.Lines, Line{ProductID: l.ProductID, Qty: l.Qty})
	}
	return r.Reservation, lines, r.CommitRef, nil
}

// GetReservation reads a reservation with its lines.
func (s *Store) GetReservation(ctx context.Context, q sqlx.QueryerContext, communityID, reservationID string) (Reservation, error) {
	var r Reservation
	if !validID(reservationID) || !validID(communityID) {
		return r, apperr.NotFoundf("reservation not found")
	}
	err := sqlx.GetContext(ctx, q, &r, `SELECT id, community_id, location_id, ref, state, expires_at, created_at, owner
		FROM reservations WHERE community_id = $1 AND id = $2`, communityID, reservationID)
	if isNoRows(err) {
		return r, apperr.NotFoundf("reservation not found")
	}
	if err != nil {
		return r, err
	}
	r.Lines = []Line{}
	err = sqlx.SelectContext(ctx, q, &r.Lines, `SELECT product_id AS "productid", qty AS "qty" FROM reservation_lines WHERE reservation_id = $1 ORDER BY product_id`, r.ID)
	return r, err
}

// Commit turns a held reservation into sale movements (lots first-expired
// first-out) with ref as their reference, exactly once: committing again with
// the same ref is a no-op; a released or expired reservation is a conflict.
func (s *Store) Commit(ctx context.Context, tx *sqlx.Tx, communityID, reservationID, ref string) error {
	r, lines, commitRef, err := lockReservation(ctx, tx, communityID, reservationID)
	if err != nil {
		return err
	}
	switch r.State {
	case ResCommitted:
		if commitRef == ref {
			return nil
		}
		return apperr.Conflictf("this reservation was already committed for %s", commitRef)
	case ResReleased, ResExpired:
		return apperr.Conflictf("this reservation was %s; its stock is no longer held", r.State)
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reservations SET state = 'committed', closed_at = now(), commit_ref = $2 WHERE id = $1`, r.ID, ref); err != nil {
		return err
	}
	for _, l := range lines {
		if !l.Tracked {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stock_levels SET reserved = reserved - $3 WHERE product_id = $1 AND location_id = $2`,
			l.ProductID, r.LocationID, l.Qty); err != nil {
			return err
		}
		takes, err := takeLots(ctx, tx, l.ProductID, r.LocationID, today, l.Qty, false)
		if err != nil {
			return err
		}
		for _, t := range takes {
			if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: l.ProductID, LocationID: r.LocationID,
				LotID: t.LotID, Kind: MoveSale, Qty: -t.Qty, Ref: ref}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Release gives the stock of a held reservation back. Releasing one that is
// no longer held is a no-op (idempotent).
func (s *Store) Release(ctx context.Context, tx *sqlx.Tx, communityID, reservationID string) error {
	_, err := s.release(ctx, tx, communityID, reservationID, ResReleased)
	return err
}

// release ends a held reservation with the given state; it reports whether it
// did (false when it was no longer held, or not yet expired for ResExpired).
func (s *Store) release(ctx context.Context, tx *sqlx.Tx, communityID, reservationID, state string) (bool, error) {
	r, lines, _, err := lockReservation(ctx, tx, communityID, reservationID)
	if err != nil {
		return false, err
	}
	if r.State != ResHeld {
		return false, nil
	}
	if state == ResExpired && (r.Owner != "" || r.ExpiresAt.After(s.Now())) {
		return false, nil // an owned reservation ends only by its owner
	}
	for _, l := range lines {
		if !l.Tracked {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stock_levels SET reserved = reserved - $3, updated_at = now() WHERE product_id = $1 AND location_id = $2`,
			l.ProductID, r.LocationID, l.Qty); err != nil {
			return false, err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE reservations SET state = $2, closed_at = now() WHERE id = $1`, r.ID, state)
	return err == nil, err
}

// Restock puts refunded goods back at a location (refund_restock movements
// with ref), into the lot they most recently left from. Lines of products that
// do not track stock are skipped.
func (s *Store) Restock(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, lines []Line, ref string) error {
	ms, err := mergeLines(lines)
	if err != nil {
		return err
	}
	if _, err := s.locationField(ctx, tx, communityID, locationID, "location_id"); err != nil {
		return err
	}
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !ps[m.ProductID].TrackStock {
			continue
		}
		if _, err := ensureLevel(ctx, tx, communityID, m.ProductID, locationID); err != nil {
			return err
		}
		lot, err := restockLot(ctx, tx, communityID, m.ProductID, locationID)
		if err != nil {
			return err
		}
		if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: m.ProductID, LocationID: locationID,
			LotID: lot, Kind: MoveRefundRestock, Qty: m.Qty, Ref: ref}); err != nil {
			return err
		}
	}
	return nil
}
