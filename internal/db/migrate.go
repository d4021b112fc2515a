package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrations are forward-only SQL files, one transaction each. File names
// start with a version; the ranges belong to the package that owns the
// tables: 1–99 identity, 100–199 inventory, 200–299 fund, 300–399 orders,
// 400–499 pos, 500–599 groupbuy, 900+ jobs.
//
//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsFS is the embedded migration set (used by the test helper to key
// its template database).
func MigrationsFS() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

func provider(d *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectPostgres, d, MigrationsFS(), goose.WithAllowOutofOrder(true))
}

// Migrate applies every pending migration. Running it again is a no-op.
func Migrate(ctx context.Context, d *sql.DB) (int, error) {
	p, err := provider(d)
	if err != nil {
		return 0, fmt.Errorf("db: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate: %w", err)
	}
	return len(res), nil
}

// Pending returns how many migrations have not been applied.
func Pending(ctx context.Context, d *sql.DB) (int, error) {
	p, err := provider(d)
	if err != nil {
		return 0, fmt.Errorf("db: migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: migration status: %w", err)
	}
	n := 0
	for _, s := range st {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}
