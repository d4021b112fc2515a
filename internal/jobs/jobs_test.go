package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/internal/dbtest"
	"shelin/internal/jobs"
)

// The goose migrations carry River's schema; River's own migrator must agree
// that nothing is left to apply, and record every version it knows.
func TestGooseMigrationsCarryRiverSchema(t *testing.T) {
	d := dbtest.Fresh(t)
	n, err := jobs.Migrate(context.Background(), d.DB)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("rivermigrate applied %d versions on a goose-migrated database; want 0 (regenerate internal/db/migrations/0090x_river.sql)", n)
	}
	var versions []int
	if err := d.Select(&versions, `SELECT version FROM river_migration WHERE line = 'main' ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 8 || versions[0] != 1 || versions[7] != 8 {
		t.Fatalf("river_migration versions = %v; want 1..8", versions)
	}
}

// River's schema from the goose files is the same as the one River's own
// migrator builds on an empty database: same tables, columns, indexes,
// functions and enum values.
func TestGooseRiverSchemaEqualsRiverMigrator(t *testing.T) {
	ctx := context.Background()
	goose := dbtest.Fresh(t)
	// An empty database of this test process (dropped when it ends).
	emptyURL := dbtest.Empty(t)
	empty, err := sqlx.Open("postgres", emptyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if n, err := jobs.Migrate(ctx, empty.DB); err != nil || n != 8 {
		t.Fatalf("rivermigrate on an empty database: %d versions, %v", n, err)
	}
	describe := func(d *sqlx.DB) []string {
		var out []string
		err := d.Select(&out, `
			SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'river%'
			UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE 'river%'
			UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc WHERE proname LIKE 'river%'
			UNION ALL SELECT 'enum ' || t.typname || ' ' || e.enumlabel || ' ' || e.enumsortorder
				FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname LIKE 'river%'
			UNION ALL SELECT 'migration ' || line || ' ' || version FROM river_migration
			ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := describe(empty), describe(goose)
	if len(want) < 30 {
		t.Fatalf("the schema description is too short to mean anything: %v", want)
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("River schema differs.\nrivermigrate:\n%s\n\ngoose:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// Normal operation logs no River line that reads like a fault: the poll-only
// notice and River's routine information become debug lines.
func TestRiverLogsNothingAlarmingInNormalOperation(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w := river.NewWorkers()
	river.AddWorker(w, river.WorkFunc(func(context.Context, *river.Job[quietArgs]) error { return nil }))
	c, err := jobs.New(dbtest.Fresh(t).DB, jobs.Config{Workers: w, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "does not support listener") || strings.Contains(buf.String(), "level=INFO") {
		t.Fatalf("River logged at info:\n%s", buf.String())
	}
}

type quietArgs struct{}

func (quietArgs) Kind() string { return "quiet_test" }
