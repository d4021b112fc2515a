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
//
// Cleaning up: every database a test process creates is named
// shelin_test_<checkout>_<pid>_<random>, where <checkout> is a hash of this
// source tree's path. Fresh drops its database when the test ends; the
// others (Open's, FreshURL's, Empty's) are dropped when the test process
// ends, by a small reaper process (the test binary itself, started once)
// that waits for its parent to go away, even by SIGKILL. When a run starts,
// databases of this checkout whose process is gone are swept. A database of
// another checkout, or of a live process, is never dropped.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

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
	name, err := clone(base)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	d, err := db.Open(context.Background(), WithDB(base, name))
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(func() {
		d.Close()
		if err := drop(base, name); err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	return d
}

// Empty returns the URL of a new database without any schema (for
// migration tests), dropped when the test process ends.
func Empty(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	name := newName()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	if err := track(base, name); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		tb.Fatalf("dbtest: create %s: %v", name, err)
	}
	return WithDB(base, name)
}

// FreshURL returns the URL of a new, migrated database (for tests that start
// the binary or need their own pool), dropped when the test process ends.
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
	sweepOnce.Do(func() { sweep(ctx, conn) })
	name := newName()
	if err := track(base, name); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl+` STRATEGY FILE_COPY`); err != nil {
		return "", fmt.Errorf("clone template: %w", err)
	}
	return name, nil
}

var sweepOnce sync.Once

// prefix is the start of every database name this checkout's tests create.
var prefix = func() string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	h := sha256.Sum256([]byte(root))
	return "shelin_test_" + hex.EncodeToString(h[:4]) + "_"
}()

// newName is a database name of this checkout and process.
func newName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s%d_%s", prefix, os.Getpid(), hex.EncodeToString(b))
}

// owner returns the process id in a name of this checkout, or 0.
func owner(name string) int {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0
	}
	pid, _, _ := strings.Cut(rest, "_")
	n, err := strconv.Atoi(pid)
	if err != nil {
		return 0
	}
	return n
}

// sweep drops the databases of this checkout whose test process is gone
// (left behind when a reaper could not finish, e.g. the cluster stopped).
func sweep(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, prefix)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			continue
		}
		if pid := owner(n); pid > 0 && !alive(pid) {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(n)+` WITH (FORCE)`)
	}
}

// Stale lists this checkout's databases whose process is gone (for tests).
func Stale(tb testing.TB) []string {
	tb.Helper()
	admin, err := sql.Open("postgres", URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	rows, err := admin.Query(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if !alive(owner(n)) {
			out = append(out, n)
		}
	}
	return out
}

// Prefix is the name prefix of this checkout's test databases.
func Prefix() string { return prefix }

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func drop(base, name string) error {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
	return err
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
