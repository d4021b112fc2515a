package devpg_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"shelin/internal/db"
	"shelin/internal/devpg"
)

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The private cluster of `make run` is created on first start, serves
// connections, stops cleanly, and keeps its data for the next start.
func TestPrivateClusterKeepsItsDataAcrossRestarts(t *testing.T) {
	parent, err := os.MkdirTemp("", "shelin-devpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755) // the postgres system user must reach it when we are root
	t.Cleanup(func() { os.RemoveAll(parent) })
	cl, err := devpg.New(filepath.Join(parent, "pg"), freePort(t), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { cl.Stop() })
	if err := cl.CreateDB("shelin"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, cl.URL("shelin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('牡丹')`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := cl.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := cl.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := cl.Start(); err != nil {
		t.Fatalf("start while running must be a no-op: %v", err)
	}
	if err := cl.CreateDB("shelin"); err != nil {
		t.Fatalf("CreateDB of an existing database must be a no-op: %v", err)
	}
	d, err = db.Open(ctx, cl.URL("shelin"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var v string
	if err := d.Get(&v, `SELECT v FROM kept`); err != nil || v != "牡丹" {
		t.Fatalf("data after restart: %q, %v", v, err)
	}
}

// Two users of one cluster: the one that started it does not stop it while
// the other still uses it; the last to leave stops it. A cluster started by
// someone else (by hand) is used and left running.
func TestOnlyTheLastUserStopsTheClusterItsCommandsStarted(t *testing.T) {
	parent, err := os.MkdirTemp("", "shelin-devpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir, port := filepath.Join(parent, "pg"), freePort(t)
	mk := func() *devpg.Cluster {
		c, err := devpg.New(dir, port, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run, test := mk(), mk() // `make run` and `make test`
	t.Cleanup(func() { mk().Stop() })
	started, err := run.Acquire()
	if err != nil || !started {
		t.Fatalf("first acquire: started=%v, %v", started, err)
	}
	started, err = test.Acquire()
	if err != nil || started {
		t.Fatalf("second acquire must join the running cluster: started=%v, %v", started, err)
	}
	if stopped, err := run.Release(); err != nil || stopped {
		t.Fatalf("the starter left while another user remains: stopped=%v, %v", stopped, err)
	}
	if !mk().Running() {
		t.Fatal("the cluster stopped under its remaining user")
	}
	if stopped, err := test.Release(); err != nil || !stopped {
		t.Fatalf("the last user left: stopped=%v, %v", stopped, err)
	}
	if mk().Running() {
		t.Fatal("the cluster still runs after its last user left")
	}

	// Started by hand: ours to use, not to stop.
	if err := mk().Start(); err != nil {
		t.Fatal(err)
	}
	user := mk()
	if started, err := user.Acquire(); err != nil || started {
		t.Fatalf("acquire of a running cluster: started=%v, %v", started, err)
	}
	if stopped, err := user.Release(); err != nil || stopped {
		t.Fatalf("released a cluster started by hand: stopped=%v, %v", stopped, err)
	}
	if !mk().Running() {
		t.Fatal("a cluster started by hand was stopped")
	}
}

// As root, a ./var made 0700 (by an older version) kept the postgres system
// user out: initdb failed with "Permission denied". The parent is opened to
// traversal.
func TestAClosedVarFolderIsOpenedForThePostgresUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: PostgreSQL runs as this user, nothing to open")
		return
	}
	parent, err := os.MkdirTemp("", "shelin-devpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	vardir := filepath.Join(parent, "var")
	if err := os.Mkdir(vardir, 0o700); err != nil {
		t.Fatal(err)
	}
	cl, err := devpg.New(filepath.Join(vardir, "pg"), freePort(t), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Acquire(); err != nil {
		t.Fatalf("start under a 0700 var: %v", err)
	}
	if _, err := cl.Release(); err != nil {
		t.Fatal(err)
	}
}
