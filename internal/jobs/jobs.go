// Package jobs is Shelin's durable background work: a thin wrapper around
// River (github.com/riverqueue/river) on the application's own PostgreSQL
// database through database/sql (riverdatabasesql).
//
// A job is inserted in the same transaction as the business change that needs
// it (Insert), so it exists exactly when the change committed. Each domain
// package registers its workers on a *river.Workers and its periodic jobs in
// Config; cmd/shelin builds one Client and starts it in `serve`.
//
// River's schema is part of the goose migration set (internal/db/migrations
// 00900_river.sql), so every database migrated by db.Migrate, including test
// databases, can take job inserts. Migrate runs River's own migrator as well,
// which applies only versions newer than those.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Args is what a job carries; its Kind names the worker.
type Args = river.JobArgs

// InsertOpts are River's insert options (ScheduledAt, Queue, UniqueOpts...).
type InsertOpts = river.InsertOpts

// inserter is an insert-only River client without a pool: it only writes jobs
// in transactions it is given.
var inserter = func() *river.Client[*sql.Tx] {
	c, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	if err != nil {
		panic(fmt.Sprintf("jobs: insert-only client: %v", err))
	}
	return c
}()

// Insert adds a job in the caller's transaction: it becomes visible to
// workers when tx commits and vanishes if tx rolls back.
func Insert(ctx context.Context, tx *sqlx.Tx, args Args, opts *InsertOpts) (int64, error) {
	res, err := inserter.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Migrate runs River's migrator (line "main") up to the newest version this
// River release knows. The goose migrations already contain versions 1–8, so
// on a database migrated by db.Migrate this only applies newer ones.
func Migrate(ctx context.Context, d *sql.DB) (int, error) {
	m, err := rivermigrate.New(riverdatabasesql.New(d), nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: migrate: %w", err)
	}
	return len(res.Versions), nil
}

// Config describes a worker client.
type Config struct {
	// Workers holds every domain's workers (river.AddWorker(w, worker)).
	Workers *river.Workers
	// Periodic jobs, e.g. safety-net sweeps.
	Periodic []*river.PeriodicJob
	// MaxWorkers of the default queue; 10 when zero.
	MaxWorkers int
	// FetchPollInterval; River's default (1 s) when zero. Tests shorten it.
	FetchPollInterval time.Duration
	// ID of this client; unique per process (random when empty).
	ID string
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Client works jobs. Several replicas may run one each on the same database;
// River hands every job to one of them at a time.
type Client struct {
	River *river.Client[*sql.Tx]
}

// New builds a worker client on d. Start it with Start; Stop it on shutdown.
func New(d *sql.DB, cfg Config) (*Client, error) {
	if cfg.Workers == nil {
		return nil, fmt.Errorf("jobs: Config.Workers is required")
	}
	mw := cfg.MaxWorkers
	if mw <= 0 {
		mw = 10
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	rc := &river.Config{
		// database/sql has no LISTEN, so River polls (every
		// FetchPollInterval): that is how Shelin runs it, not a fault.
		PollOnly: true,
		// A job that was running on a replica killed mid-way (SIGKILL, a
		// lost machine) is retried after 5 minutes instead of River's hour:
		// jobs time out after 1 minute (JobTimeout) and every worker is
		// idempotent, so a rare second run is harmless.
		RescueStuckJobsAfter: 5 * time.Minute,
		ID:                   cfg.ID,
		Workers:              cfg.Workers,
		PeriodicJobs:         cfg.Periodic,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: mw}},
		FetchPollInterval:    cfg.FetchPollInterval,
		Logger:               slog.New(quietRiver{logger.Handler()}),
	}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < 100*time.Millisecond {
		rc.FetchCooldown = cfg.FetchPollInterval
	}
	c, err := river.NewClient(riverdatabasesql.New(d), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	return &Client{River: c}, nil
}

// Start begins fetching and working jobs until ctx ends or Stop is called.
func (c *Client) Start(ctx context.Context) error { return c.River.Start(ctx) }

// Stop waits for running jobs to finish (bounded by ctx).
func (c *Client) Stop(ctx context.Context) error { return c.River.Stop(ctx) }

// Insert adds a job in tx through this client (same as the package Insert).
func (c *Client) Insert(ctx context.Context, tx *sqlx.Tx, args Args, opts *InsertOpts) (int64, error) {
	res, err := c.River.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Job is River's job row (for workers).
type Job = rivertype.JobRow

// quietRiver passes River's warnings and errors on and turns its routine
// information (start, stop, job counts every minute, "Driver does not
// support listener; entering poll only mode", which only says River polls
// because database/sql has no LISTEN) into debug lines.
type quietRiver struct{ h slog.Handler }

func (q quietRiver) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn {
		l = slog.LevelDebug
	}
	return q.h.Enabled(ctx, l)
}

func (q quietRiver) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		r.Level = slog.LevelDebug
		if !q.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return q.h.Handle(ctx, r)
}

func (q quietRiver) WithAttrs(as []slog.Attr) slog.Handler { return quietRiver{q.h.WithAttrs(as)} }
func (q quietRiver) WithGroup(n string) slog.Handler       { return quietRiver{q.h.WithGroup(n)} }
