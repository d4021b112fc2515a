package db_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/dbtest"
)

// A transaction whose connection is cut mid-way (pg_terminate_backend, as a
// server restart or a failover does) never committed: InTx runs it again on
// a new connection, and its write lands exactly once.
func TestInTxRetriesATransactionWhoseConnectionWasCut(t *testing.T) {
	d := dbtest.Fresh(t)
	ctx := context.Background()
	mustExec(t, d, `CREATE TABLE sale (id int PRIMARY KEY)`)
	killer := dbtest.Fresh(t) // any other connection to the same server
	calls := 0
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		calls++
		if _, err := tx.ExecContext(ctx, `INSERT INTO sale VALUES (1)`); err != nil {
			return err
		}
		if calls == 1 {
			var pid int
			if err := tx.GetContext(ctx, &pid, `SELECT pg_backend_pid()`); err != nil {
				return err
			}
			if _, err := killer.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
		}
		_, err := tx.ExecContext(ctx, `SELECT 1`)
		return err
	})
	if err != nil {
		t.Fatalf("InTx surfaced %v after %d call(s)", err, calls)
	}
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM sale`); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || n != 1 {
		t.Fatalf("calls %d, rows %d: want one retry and one row", calls, n)
	}
}

// Idle connections of the pool cut by the server (a restart while the
// service was quiet) cost the next transaction nothing.
func TestInTxSurvivesAPoolOfCutConnections(t *testing.T) {
	d := dbtest.Fresh(t)
	ctx := context.Background()
	// Fill the pool with idle connections.
	conns := make([]*sqlx.Conn, 5)
	for i := range conns {
		c, err := d.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
	var name string
	if err := d.GetContext(ctx, &name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	killer := dbtest.Fresh(t)
	if _, err := killer.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=$1 AND pid <> pg_backend_pid()`, name); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT 1`)
			return err
		}); err != nil {
			t.Fatalf("transaction %d after the cut: %v", i, err)
		}
	}
}
