package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shelin/internal/db"
	"shelin/internal/dbtest"
)

// captureStdout runs fn and returns what it printed.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	outc := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		outc <- b.String()
	}()
	ferr := fn()
	os.Stdout = old
	w.Close()
	return <-outc, ferr
}

// A backup of the demo restores into a fresh database where `shelin
// verify` holds and every row is back; a damaged file and a non-empty
// target are refused.
func TestABackupOfTheDemoRestoresAndVerifies(t *testing.T) {
	ctx, cfg, src, _ := seededDemo(t)
	file := filepath.Join(t.TempDir(), "shelin-20260101T000000Z.dump")
	m, err := backup(ctx, cfg.DatabaseURL, file)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if m.SchemaVersion != newestMigration() || m.Bytes == 0 || len(m.SHA256) != 64 {
		t.Fatalf("meta %+v (newest migration %d)", m, newestMigration())
	}
	sum, err := os.ReadFile(file + ".sha256")
	if err != nil || !strings.HasPrefix(string(sum), m.SHA256+"  shelin-") {
		t.Fatalf("checksum file %q, %v", sum, err)
	}

	target := dbtest.Empty(t)
	if err := restore(ctx, target, file); err != nil {
		t.Fatalf("restore: %v", err)
	}
	dst, err := db.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	out, err := captureStdout(t, func() error { return errorsJoin(ledgerVerify(ctx, dst), stockVerify(ctx, dst)) })
	if err != nil {
		t.Fatalf("verify after restore: %v\n%s", err, out)
	}
	if !strings.Contains(out, "every entry balances") || !strings.Contains(out, "every level equals") {
		t.Fatalf("verify summary:\n%s", out)
	}
	const q = `SELECT (SELECT count(*) FROM ledger_entries) || '/' || (SELECT count(*) FROM ledger_postings) || '/' ||
		(SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM stock_movements) || '/' || (SELECT count(*) FROM river_job)`
	var a, b string
	if err := src.Get(&a, q); err != nil {
		t.Fatal(err)
	}
	if err := dst.Get(&b, q); err != nil {
		t.Fatal(err)
	}
	if a != b || strings.HasPrefix(a, "0/") {
		t.Fatalf("rows (entries/postings/users/movements/jobs): source %s, restored %s", a, b)
	}

	// A second restore into the now-full database is refused.
	if err := restore(ctx, target, file); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Fatalf("restore into a non-empty database: %v", err)
	}
	// A damaged file is refused before anything is written.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restore(ctx, dbtest.Empty(t), file); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("restore of a damaged file: %v", err)
	}

}

// --keep N keeps the newest N backups of a folder with their side files.
func TestBackupRetentionKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	for _, ts := range []string{"20260101T000000Z", "20260102T000000Z", "20260103T000000Z"} {
		for _, ext := range []string{".dump", ".dump.sha256", ".dump.meta"} {
			if err := os.WriteFile(filepath.Join(dir, "shelin-"+ts+ext), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	removed, err := pruneBackups(dir, 2)
	if err != nil || len(removed) != 1 || !strings.Contains(removed[0], "20260101") {
		t.Fatalf("removed %v, %v", removed, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 6 {
		t.Fatalf("left %v", left)
	}
}

// `ledger verify` and `stock verify` print a summary on an empty database.
func TestVerifyAlwaysPrintsASummary(t *testing.T) {
	d, err := openDB(context.Background(), config{DatabaseURL: dbtest.FreshURL(t)}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := captureStdout(t, func() error {
		return errorsJoin(ledgerVerify(context.Background(), d), stockVerify(context.Background(), d))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ledger verify: no ledgers yet") || !strings.Contains(out, "stock verify: 0 stock level(s)") {
		t.Fatalf("summary on an empty database:\n%s", out)
	}
}

// A second demo load says the data is already there.
func TestASecondDemoLoadSaysSo(t *testing.T) {
	ctx, cfg, _, _ := seededDemo(t)
	out, err := captureStdout(t, func() error { _, err := seedDemo(ctx, cfg); return err })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "already loaded") {
		t.Fatalf("second load printed:\n%s", out)
	}
}
