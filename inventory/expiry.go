package inventory

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/internal/db"
)

// ExpireReservationArgs is the durable job inserted with every reservation,
// scheduled at its expiry.
type ExpireReservationArgs struct {
	CommunityID   string `json:"community_id"`
	ReservationID string `json:"reservation_id"`
}

func (ExpireReservationArgs) Kind() string { return "inventory_reservation_expire" }

// SweepExpiredArgs is the periodic safety net that expires any held
// reservation past its expiry whose job was lost or delayed.
type SweepExpiredArgs struct{}

func (SweepExpiredArgs) Kind() string { return "inventory_reservation_sweep" }

// ExpireReservation releases a held reservation whose expiry has passed, as
// state "expired". It is exactly-once by row state: the reservation row is
// locked and only a held one changes, so two workers (or a job and the sweep)
// racing on it release its stock once. It reports whether it expired it.
func (s *Store) ExpireReservation(ctx context.Context, tx *sqlx.Tx, communityID, reservationID string) (bool, error) {
	return s.release(ctx, tx, communityID, reservationID, ResExpired)
}

// SweepExpired expires up to limit held reservations past their expiry (all
// communities) and returns how many it expired. Rows another replica is
// working on are skipped.
func (s *Store) SweepExpired(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 500
	}
	n := 0
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		n = 0
		var due []struct {
			ID          string `db:"id"`
			CommunityID string `db:"community_id"`
		}
		if err := tx.SelectContext(ctx, &due, `SELECT id, community_id FROM reservations
			WHERE state = 'held' AND owner = '' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`, s.Now(), limit); err != nil {
			return err
		}
		for _, r := range due {
			ok, err := s.ExpireReservation(ctx, tx, r.CommunityID, r.ID)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ExpireWorker works ExpireReservationArgs jobs.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireReservationArgs]
	Store *Store
}

func (w *ExpireWorker) Work(ctx context.Context, job *river.Job[ExpireReservationArgs]) error {
	var expired bool
	err := db.InTx(ctx, w.Store.db, func(tx *sqlx.Tx) error {
		var err error
		expired, err = w.Store.ExpireReservation(ctx, tx, job.Args.CommunityID, job.Args.ReservationID)
		return err
	})
	if err != nil {
		return err
	}
	if expired {
		slog.InfoContext(ctx, "reservation expired", "reservation_id", job.Args.ReservationID)
	}
	return nil
}

// SweepWorker works SweepExpiredArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepExpiredArgs]
	Store *Store
}

func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepExpiredArgs]) error {
	n, err := w.Store.SweepExpired(ctx, 500)
	if n > 0 {
		slog.InfoContext(ctx, "expired reservations swept", "count", n)
	}
	return err
}

// RegisterWorkers adds the inventory workers to a River worker set.
func (s *Store) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &ExpireWorker{Store: s})
	river.AddWorker(w, &SweepWorker{Store: s})
}

// PeriodicJobs are inventory's periodic jobs (the expiry sweep every minute).
func (s *Store) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SweepExpiredArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}
