// Package dbtest gives tests a real PostgreSQL database.
//
// The first call in a test process migrates a template database (named after
// a hash of the migrations, so it is rebuilt when they change) and clones it
// with CREATE DATABASE … TEMPLATE, which takes milliseconds. Open returns the
// package's shared database; tests isolate themselves by creating their own
// community. Fresh returns a database of the test's own.
//
// The server comes from DATABASE_URL. Without it the test fails (make test
// starts a private cluster and sets DATABASE_URL); it never skips.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"shelin/internal/db"
)

var (
	once    sync.Once
	shared  *sqlx.DB
	openErr error
)

// URL returns the server URL or fails/skips the test when there is none.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		tb.Fatal("DATABASE_URL is not set: tests need PostgreSQL; run `make test`, which starts a private cluster when DATABASE_URL is unset")
	}
	return u
}

// Open returns the test package's database, created on first use.
func Open(tb testing.TB) *sqlx.DB {
	tb.Helper()
	base := URL(tb)
	once.Do(func() { shared, openErr = create(base) })
	if openErr != nil {
		tb.Fatalf("dbtest: %v", openErr)
	}
	return shared
}

// Fresh returns a new database of its own, dropped when the test ends.
func Fresh(tb testing.TB) *sqlx.DB {
	tb.Helper()
	base := URL(tb)
	d, err := create(base)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// FreshURL returns the URL of a new, migrated database (for tests that start
// the binary or need their own pool).
func FreshURL(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	name, err := clone(base)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return WithDB(base, name)
}

func create(base string) (*sqlx.DB, error) {
	name, err := clone(base)
	if err != nil {
		return nil, err
	}
	return db.Open(context.Background(), WithDB(base, name))
}

func clone(base string) (string, error) {
	ctx := context.Background()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// One process at a time builds templates and clones from them.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727274)`)

	tmpl := "shelin_tmpl_" + migrationsHash()
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)`, tmpl).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		build := tmpl + "_build"
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+build)
		if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+build); err != nil {
			return "", fmt.Errorf("create template: %w", err)
		}
		td, err := db.Open(ctx, WithDB(base, build))
		if err != nil {
			return "", err
		}
		_, err = db.Migrate(ctx, td.DB)
		td.Close()
		if err != nil {
			return "", err
		}
		if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+build+` RENAME TO `+tmpl); err != nil {
			return "", fmt.Errorf("rename template: %w", err)
		}
	}
	dropStale(ctx, conn)
	b := make([]byte, 4)
	rand.Read(b)
	name := fmt.Sprintf("shelin_test_%d_%s", time.Now().Unix(), hex.EncodeToString(b))
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl+` STRATEGY FILE_COPY`); err != nil {
		return "", fmt.Errorf("clone template: %w", err)
	}
	return name, nil
}

// dropStale removes test databases of runs that ended more than two hours
// ago, so that repeated runs do not fill the disk.
func dropStale(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'shelin\_test\_%'`)
	if err != nil {
		return
	}
	var stale []string
	cutoff := time.Now().Add(-2 * time.Hour).Unix()
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			continue
		}
		var ts int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(n, "shelin_test_"), "%d_", &ts); err == nil && ts < cutoff {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(n)+` WITH (FORCE)`)
	}
}

func migrationsHash() string {
	h := sha256.New()
	fsys := db.MigrationsFS()
	names, _ := fs.Glob(fsys, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// WithDB returns base with its database name replaced.
func WithDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return base + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
