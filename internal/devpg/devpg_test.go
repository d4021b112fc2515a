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
