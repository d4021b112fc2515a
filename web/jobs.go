package web

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"shelin/internal/idem"
	"shelin/internal/jobs"
)

// purgeIdempotencyArgs asks for idempotency records older than the retention
// to be deleted.
type purgeIdempotencyArgs struct{}

func (purgeIdempotencyArgs) Kind() string { return "purge_idempotency_keys" }

type purgeIdempotencyWorker struct {
	river.WorkerDefaults[purgeIdempotencyArgs]
	s *Server
}

func (w *purgeIdempotencyWorker) Work(ctx context.Context, _ *river.Job[purgeIdempotencyArgs]) error {
	n, err := idem.Purge(ctx, w.s.db)
	if err == nil && n > 0 {
		w.s.log.Info("purged idempotency keys", "count", n)
	}
	return err
}

// registerJobs adds every area's workers and periodic jobs. Areas add theirs here.
func (s *Server) registerJobs() {
	s.inv.RegisterWorkers(s.workers)
	s.periodic = append(s.periodic, s.inv.PeriodicJobs()...)
	river.AddWorker(s.workers, &purgeIdempotencyWorker{s: s})
	s.periodic = append(s.periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return purgeIdempotencyArgs{}, nil }, nil))
}

// Start begins the durable background work (River workers) of this replica.
func (s *Server) Start(ctx context.Context) error {
	c, err := jobs.New(s.db.DB, jobs.Config{Workers: s.workers, Periodic: s.periodic, Logger: s.log})
	if err != nil {
		return err
	}
	s.jobs = c
	return c.Start(ctx)
}

// Stop waits for running jobs to finish.
func (s *Server) Stop(ctx context.Context) error {
	if s.jobs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.jobs.Stop(ctx)
}
