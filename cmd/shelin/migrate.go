package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/jobs"
)

func cmdMigrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	url := fs.String("database-url", envOr("DATABASE_URL", ""), "PostgreSQL URL (env DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("DATABASE_URL is not set")
	}
	n, err := migrate(context.Background(), *url)
	if err != nil {
		return err
	}
	fmt.Printf("applied %d migration(s)\n", n)
	return nil
}

// migrate applies Shelin's migrations and any newer River schema versions.
func migrate(ctx context.Context, url string) (int, error) {
	d, err := db.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	n, err := db.Migrate(ctx, d.DB)
	if err != nil {
		return n, err
	}
	m, err := jobs.Migrate(ctx, d.DB)
	return n + m, err
}

// openForCommand parses the flags of a maintenance command (`ledger verify`,
// `stock verify`) and opens a database whose schema is current.
func openForCommand(name string, args []string) (*sqlx.DB, error) {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	return openDB(context.Background(), cfg, false)
}
