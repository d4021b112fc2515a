package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// backupMeta is written beside every backup as FILE.meta.
type backupMeta struct {
	Format        string    `json:"format"` // "pg_dump custom"
	Created       time.Time `json:"created"`
	SchemaVersion int64     `json:"schema_version"` // newest applied migration
	ShelinVersion string    `json:"shelin_version"`
	ServerVersion string    `json:"server_version"`
	SHA256        string    `json:"sha256"`
	Bytes         int64     `json:"bytes"`
}

// cmdBackup is `shelin backup [--dir DIR] [--keep N] [FILE]`: one pg_dump in
// custom format (a single consistent snapshot), then FILE.sha256 (sha256sum
// format) and FILE.meta (schema version, sizes). With --keep, older
// shelin-*.dump files in the same folder beyond the newest N are removed.
func cmdBackup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	url := fs.String("database-url", envOr("DATABASE_URL", ""), "PostgreSQL URL (env DATABASE_URL)")
	dir := fs.String("dir", ".", "folder for the backup when no FILE is given (named shelin-YYYYMMDDTHHMMSSZ.dump)")
	keep := fs.Int("keep", 0, "after a good backup, keep only the newest N shelin-*.dump files in its folder (0 keeps all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("DATABASE_URL is not set")
	}
	file := fs.Arg(0)
	if file == "" {
		file = filepath.Join(*dir, "shelin-"+time.Now().UTC().Format("20060102T150405Z")+".dump")
	}
	m, err := backup(context.Background(), *url, file)
	if err != nil {
		return err
	}
	fmt.Printf("backup: %s (%d bytes, schema version %d, sha256 %s)\n", file, m.Bytes, m.SchemaVersion, m.SHA256[:16])
	if *keep > 0 {
		removed, err := pruneBackups(filepath.Dir(file), *keep)
		if err != nil {
			return err
		}
		for _, r := range removed {
			fmt.Printf("backup: removed old %s\n", r)
		}
	}
	return nil
}

// backup dumps url into file and writes its checksum and meta files.
func backup(ctx context.Context, url, file string) (backupMeta, error) {
	var m backupMeta
	d, err := db.Open(ctx, url)
	if err != nil {
		return m, err
	}
	defer d.Close()
	if m.SchemaVersion, err = schemaVersion(ctx, d); err != nil {
		return m, err
	}
	if err := d.GetContext(ctx, &m.ServerVersion, `SHOW server_version`); err != nil {
		return m, err
	}
	tool, err := pgTool("pg_dump", m.ServerVersion)
	if err != nil {
		return m, err
	}
	tmp := file + ".partial"
	cmd := exec.CommandContext(ctx, tool, "--format=custom", "--no-owner", "--no-privileges", "--file="+tmp, "--dbname="+url)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return m, fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(string(out)))
	}
	sum, n, err := fileSHA256(tmp)
	if err != nil {
		return m, err
	}
	m.Format, m.Created, m.ShelinVersion, m.SHA256, m.Bytes = "pg_dump custom", time.Now().UTC(), version, sum, n
	meta, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(file+".meta", append(meta, '\n'), 0o600); err != nil {
		return m, err
	}
	if err := os.WriteFile(file+".sha256", []byte(sum+"  "+filepath.Base(file)+"\n"), 0o600); err != nil {
		return m, err
	}
	return m, os.Rename(tmp, file)
}

// cmdRestore is `shelin restore FILE`: it checks the checksum, refuses a
// database that is not empty and a backup newer than this binary, restores
// in one transaction, applies newer migrations, then runs `shelin verify`.
func cmdRestore(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	url := fs.String("database-url", envOr("DATABASE_URL", ""), "PostgreSQL URL of an empty database (env DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("DATABASE_URL is not set")
	}
	if fs.NArg() != 1 {
		return errors.New("usage: shelin restore [--database-url URL] FILE")
	}
	ctx := context.Background()
	if err := restore(ctx, *url, fs.Arg(0)); err != nil {
		return err
	}
	d, err := openDB(ctx, config{DatabaseURL: *url}, false)
	if err != nil {
		return err
	}
	defer d.Close()
	return errors.Join(ledgerVerify(ctx, d), stockVerify(ctx, d))
}

// restore loads file into the empty database at url and migrates it.
func restore(ctx context.Context, url, file string) error {
	var m backupMeta
	if b, err := os.ReadFile(file + ".meta"); err != nil {
		return fmt.Errorf("restore: %s.meta is missing (written by shelin backup): %w", file, err)
	} else if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("restore: %s.meta: %w", file, err)
	}
	sum, _, err := fileSHA256(file)
	if err != nil {
		return err
	}
	if sum != m.SHA256 {
		return fmt.Errorf("restore: %s is damaged: sha256 %s, the backup recorded %s", file, sum, m.SHA256)
	}
	if known := newestMigration(); m.SchemaVersion > known {
		return fmt.Errorf("restore: the backup has schema version %d, newer than this shelin knows (%d): use a newer shelin", m.SchemaVersion, known)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer d.Close()
	var tables int
	if err := d.GetContext(ctx, &tables, `SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')`); err != nil {
		return err
	}
	if tables > 0 {
		return fmt.Errorf("restore: the target database has %d table(s); restore only into an empty database (createdb a new one)", tables)
	}
	var server string
	if err := d.GetContext(ctx, &server, `SHOW server_version`); err != nil {
		return err
	}
	tool, err := pgTool("pg_restore", server)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname="+url, file)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(string(out)))
	}
	n, err := migrate(ctx, url)
	if err != nil {
		return err
	}
	fmt.Printf("restore: %s restored (schema version %d, %d newer migration(s) applied)\n", file, m.SchemaVersion, n)
	return nil
}

// schemaVersion is the newest applied migration.
func schemaVersion(ctx context.Context, d *sqlx.DB) (int64, error) {
	var v int64
	err := d.GetContext(ctx, &v, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`)
	if err != nil {
		return 0, fmt.Errorf("schema version (is the database migrated?): %w", err)
	}
	return v, nil
}

// newestMigration is the highest migration version this binary carries.
func newestMigration() int64 {
	names, _ := fs.Glob(db.MigrationsFS(), "*.sql")
	var newest int64
	for _, n := range names {
		num, _, _ := strings.Cut(n, "_")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > newest {
			newest = v
		}
	}
	return newest
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// pgTool finds pg_dump or pg_restore at least as new as the server (major
// version): the newest /usr/lib/postgresql/*/bin, else PATH.
func pgTool(name, serverVersion string) (string, error) {
	major, _ := strconv.Atoi(strings.SplitN(strings.Fields(serverVersion + " ")[0], ".", 2)[0])
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestV := "", 0
	for _, d := range dirs {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if _, err := os.Stat(filepath.Join(d, name)); err == nil && v > bestV {
			best, bestV = filepath.Join(d, name), v
		}
	}
	if best != "" && bestV >= major {
		return best, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if best != "" {
		return best, nil
	}
	return "", fmt.Errorf("%s not found: install the PostgreSQL client (apt-get install postgresql-client)", name)
}

// pruneBackups keeps the newest keep shelin-*.dump files in dir (with their
// .sha256 and .meta) and removes the rest; names sort by time.
func pruneBackups(dir string, keep int) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "shelin-*.dump"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var removed []string
	for len(files) > keep {
		f := files[0]
		files = files[1:]
		for _, p := range []string{f, f + ".sha256", f + ".meta"} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return removed, err
			}
		}
		removed = append(removed, f)
	}
	return removed, nil
}
