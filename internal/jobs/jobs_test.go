package jobs_test

import (
	"context"
	"testing"

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
