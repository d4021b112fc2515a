package db_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/dbtest"
)

// Two serializable transactions that read and then write the same row: one
// of them fails with 40001 and InTx runs it again, so both increments land.
func TestInTxRetriesSerializationFailures(t *testing.T) {
	d := dbtest.Fresh(t)
	ctx := context.Background()
	mustExec(t, d, `CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)`)
	var attempts atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	var once [2]sync.Once
	run := func(i int) error {
		return db.InTxOpts(ctx, d, &sql.TxOptions{Isolation: sql.LevelSerializable}, func(tx *sqlx.Tx) error {
			attempts.Add(1)
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT n FROM counter WHERE id=1`); err != nil {
				return err
			}
			// Both first attempts read before either writes: a real conflict.
			once[i].Do(func() { ready.Done(); ready.Wait() })
			_, err := tx.ExecContext(ctx, `UPDATE counter SET n=$1 WHERE id=1`, n+1)
			return err
		})
	}
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func(i int) { errs <- run(i) }(i)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("InTx surfaced %v", err)
		}
	}
	var n int
	d.Get(&n, `SELECT n FROM counter WHERE id=1`)
	if n != 2 {
		t.Fatalf("counter = %d, want 2 (a lost update)", n)
	}
	if attempts.Load() < 3 {
		t.Fatalf("attempts = %d: the conflict did not happen, the test proves nothing", attempts.Load())
	}
}

// Two transactions locking two rows in opposite order deadlock; PostgreSQL
// aborts one with 40P01 and InTx runs it again.
func TestInTxRetriesDeadlocks(t *testing.T) {
	d := dbtest.Fresh(t)
	ctx := context.Background()
	mustExec(t, d, `CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL); INSERT INTO acct VALUES (1, 0), (2, 0)`)
	var attempts atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	var once [2]sync.Once
	run := func(i, first, second int) error {
		return db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			attempts.Add(1)
			if _, err := tx.ExecContext(ctx, `UPDATE acct SET n=n+1 WHERE id=$1`, first); err != nil {
				return err
			}
			once[i].Do(func() { ready.Done(); ready.Wait() })
			_, err := tx.ExecContext(ctx, `UPDATE acct SET n=n+1 WHERE id=$1`, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run(0, 1, 2) }()
	go func() { errs <- run(1, 2, 1) }()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("InTx surfaced %v", err)
		}
	}
	var sum int
	d.Get(&sum, `SELECT sum(n) FROM acct`)
	if sum != 4 || attempts.Load() < 3 {
		t.Fatalf("sum = %d, attempts = %d; want 4 and a retry", sum, attempts.Load())
	}
}

func TestInTxDoesNotRetryOtherErrors(t *testing.T) {
	d := dbtest.Open(t)
	calls := 0
	boom := errors.New("boom")
	err := db.InTx(context.Background(), d, func(tx *sqlx.Tx) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

// Migrations run from an empty database, and a second run applies nothing.
func TestMigrateFromEmptyThenNoop(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err := db.Pending(ctx, d.DB); err != nil || n == 0 {
		t.Fatalf("an empty database must have pending migrations: %d, %v", n, err)
	}
	n, err := db.Migrate(ctx, d.DB)
	if err != nil || n == 0 {
		t.Fatalf("first migrate applied %d: %v", n, err)
	}
	n, err = db.Migrate(ctx, d.DB)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d: %v", n, err)
	}
	if p, _ := db.Pending(ctx, d.DB); p != 0 {
		t.Fatalf("pending after migrate: %d", p)
	}
}

func mustExec(t *testing.T, d *sqlx.DB, q string) {
	t.Helper()
	if _, err := d.Exec(q); err != nil {
		t.Fatal(err)
	}
}
