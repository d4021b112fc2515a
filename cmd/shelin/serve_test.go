package main

import (
	"context"
	"strings"
	"testing"

	"shelin/internal/db"
	"shelin/internal/dbtest"
)

// serve refuses a database whose schema is behind, unless told to migrate.
func TestServeRefusesAnOutOfDateSchemaUnlessMigrating(t *testing.T) {
	ctx := context.Background()
	base := dbtest.URL(t)
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	admin.Exec(`DROP DATABASE IF EXISTS shelin_serve_behind WITH (FORCE)`)
	if _, err := admin.Exec(`CREATE DATABASE shelin_serve_behind`); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(`DROP DATABASE IF EXISTS shelin_serve_behind WITH (FORCE)`)
	cfg := validConfig()
	cfg.DatabaseURL = dbtest.WithDB(base, "shelin_serve_behind")
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
