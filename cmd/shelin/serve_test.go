package main

import (
	"context"
	"strings"
	"testing"

	"shelin/internal/dbtest"
)

// serve refuses a database whose schema is behind, unless told to migrate.
func TestServeRefusesAnOutOfDateSchemaUnlessMigrating(t *testing.T) {
	ctx := context.Background()
	cfg := validConfig()
	cfg.DatabaseURL = dbtest.Empty(t)
	if _, err := openDB(ctx, cfg, false); err == nil || !strings.Contains(err.Error(), "behind") {
		t.Fatalf("out-of-date schema: %v", err)
	}
	d, err := openDB(ctx, cfg, true)
	if err != nil {
		t.Fatalf("with --migrate: %v", err)
	}
	d.Close()
	if d, err = openDB(ctx, cfg, false); err != nil {
		t.Fatalf("after migrating: %v", err)
	}
	d.Close()
}
