package dbtest_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"shelin/internal/dbtest"
)

const helperEnv = "SHELIN_DBTEST_HELPER"

// Not a test of its own: the body of the child process the tests below
// start. It creates one database of each kind, prints their names and then
// ends as asked (normally, or killed by SIGKILL).
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	name := func(u string) string { return u[strings.LastIndex(u, "/")+1 : strings.Index(u, "?")] }
	var cur string
	if err := dbtest.Open(t).Get(&cur, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	fmt.Println("DB", cur)
	fmt.Println("DB", name(dbtest.FreshURL(t)))
	fmt.Println("DB", name(dbtest.Empty(t)))
	fmt.Println("READY")
	if mode == "kill" {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
}

// runHelper runs the helper child and returns the databases it created.
func runHelper(t *testing.T, mode string) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "DB "); ok {
			names = append(names, n)
		}
	}
	err = cmd.Wait()
	if mode == "exit" && err != nil {
		t.Fatalf("helper: %v", err)
	}
	if len(names) != 3 {
		t.Fatalf("helper created %v, want 3 databases", names)
	}
	return names
}

func exists(t *testing.T, admin *sql.DB, name string) bool {
	t.Helper()
	var ok bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func adminDB(t *testing.T) *sql.DB {
	t.Helper()
	admin, err := sql.Open("postgres", dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return admin
}

// Every database a test process creates is gone shortly after the process
// ends: normally, or killed with SIGKILL (the reaper notices).
func TestATestProcessLeavesNoDatabases(t *testing.T) {
	admin := adminDB(t)
	for _, mode := range []string{"exit", "kill"} {
		names := runHelper(t, mode)
		for _, n := range names {
			if !strings.HasPrefix(n, dbtest.Prefix()) {
				t.Errorf("%s: database %s is not named with this checkout's prefix %s", mode, n, dbtest.Prefix())
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for _, n := range names {
			for exists(t, admin, n) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: database %s still exists 20 s after its process ended", mode, n)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// At start, a run sweeps this checkout's databases whose process is gone and
// leaves every other database alone: another checkout's, whatever its age.
func TestSweepDropsOnlyThisCheckoutsOrphans(t *testing.T) {
	admin := adminDB(t)
	orphan := dbtest.Prefix() + "999999999_0badf00d" // no process has this id
	other := "shelin_test_00000000_999999999_0badf00d"
	legacy := "shelin_test_1000000000_0badf00d" // the old naming: not ours to judge
	for _, n := range []string{orphan, other, legacy} {
		admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(n))
		if _, err := admin.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(n)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{orphan, other, legacy} {
			admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(n) + ` WITH (FORCE)`)
		}
	})
	runHelper(t, "exit") // a new process: its first database sweeps
	if exists(t, admin, orphan) {
		t.Errorf("orphan %s of this checkout was not swept", orphan)
	}
	if !exists(t, admin, other) {
		t.Errorf("%s of another checkout was dropped", other)
	}
	if !exists(t, admin, legacy) {
		t.Errorf("%s (unknown owner) was dropped", legacy)
	}
}
