// Package db opens PostgreSQL through sqlx and lib/pq, runs the embedded
// migrations and runs business steps in transactions that retry on
// serialization failures and deadlocks.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DB is the connection pool shared by the whole process.
type DB = sqlx.DB

// Tx is a transaction; domain functions that take part in a larger business
// step accept a *Tx instead of opening their own.
type Tx = sqlx.Tx

// Open connects and checks the database is reachable.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	d.SetMaxOpenConns(20)
	d.SetMaxIdleConns(10)
	d.SetConnMaxIdleTime(5 * time.Minute)
	d.SetConnMaxLifetime(time.Hour)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: cannot reach database: %w", err)
	}
	return d, nil
}

// MaxAttempts is how often InTx tries a transaction that keeps failing with a
// retryable error.
const MaxAttempts = 12

// Retryable reports whether err is a serialization failure (40001) or a
// deadlock (40P01), after which the whole transaction may simply run again.
func Retryable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// InTx runs fn in one transaction and commits it. When the transaction fails
// with a retryable error, it is rolled back and run again after a jittered,
// growing pause. fn must therefore have no effects outside the transaction.
//
// A connection that breaks before COMMIT is sent (the server restarted,
// pg_terminate_backend, a network cut) is retryable too: the transaction
// cannot have committed, so running it again on a new connection is safe. A
// connection lost during COMMIT is not retried: the outcome is unknown, and
// the caller's idempotency key decides.
func InTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	return InTxOpts(ctx, d, nil, fn)
}

// InTxOpts is InTx with transaction options (for example serializable isolation).
func InTxOpts(ctx context.Context, d *sqlx.DB, opts *sql.TxOptions, fn func(tx *sqlx.Tx) error) error {
	var err error
	lost := false
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		if attempt > 0 {
			retries.Add(1)
			base := time.Duration(1<<min(attempt, 7)) * time.Millisecond
			if lost { // give a restarting server time to come back
				base = max(base, 250*time.Millisecond)
			}
			pause := base + time.Duration(rand.Int64N(int64(base)))
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var committing bool
		committing, err = runOnce(ctx, d, opts, fn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		lost = !committing && ConnectionLost(err)
		if !Retryable(err) && !lost {
			return err
		}
	}
	return fmt.Errorf("db: gave up after %d attempts: %w", MaxAttempts, err)
}

// runOnce runs fn in one transaction; committing tells whether err came
// from COMMIT itself.
func runOnce(ctx context.Context, d *sqlx.DB, opts *sql.TxOptions, fn func(tx *sqlx.Tx) error) (committing bool, err error) {
	tx, err := d.BeginTxx(ctx, opts)
	if err != nil {
		return false, err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// ConnectionLost reports whether err says the connection to PostgreSQL
// broke: the server ended it (57P01 admin shutdown, 57P02 crash shutdown,
// 57P03 cannot connect now, class 08 connection exceptions) or the socket
// was reset, closed or cut.
func ConnectionLost(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code.Class() == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ne *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// IsUniqueViolation reports whether err is a unique_violation (23505),
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return constraint == "" || pe.Constraint == constraint
	}
	return false
}

// IsCheckViolation reports whether err is a check_violation (23514),
// optionally on the named constraint.
func IsCheckViolation(err error, constraint string) bool {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23514" {
		return constraint == "" || pe.Constraint == constraint
	}
	return false
}
