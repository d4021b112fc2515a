package main

import (
	"bytes"

	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// shelinBinary builds this command once per test process.
func shelinBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shelin-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "shelin")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// opsEnv is a project folder with its own private cluster (port and dir),
// as a developer's checkout has.
type opsEnv struct {
	t      *testing.T
	bin    string
	dir    string
	pgDir  string
	pgPort string
}

func newOpsEnv(t *testing.T) *opsEnv {
	parent, err := os.MkdirTemp("", "shelin-ops-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755) // the postgres system user must reach var/pg when we are root
	e := &opsEnv{t: t, bin: shelinBinary(t), dir: parent, pgDir: filepath.Join(parent, "var", "pg")}
	_, e.pgPort, _ = net.SplitHostPort(freeAddr(t))
	t.Cleanup(func() {
		// Whatever happened, leave no PostgreSQL behind.
		if _, err := os.Stat(filepath.Join(e.pgDir, "postmaster.pid")); err == nil {
			c, _ := privateClusterAt(e.pgDir, e.pgPort)
			if c != nil {
				c.Stop()
			}
		}
		os.RemoveAll(parent)
	})
	return e
}

func (e *opsEnv) cmd(args ...string) *exec.Cmd {
	c := exec.Command(e.bin, args...)
	c.Dir = e.dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "SHELIN_") {
			env = append(env, kv)
		}
	}
	c.Env = append(env, "SHELIN_PG_DIR="+e.pgDir, "SHELIN_PG_PORT="+e.pgPort)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a terminal's job
	return c
}

// pgUp reports whether the private cluster accepts connections.
func (e *opsEnv) pgUp() bool {
	d, err := sql.Open("postgres", "postgres://postgres@127.0.0.1:"+e.pgPort+"/postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		return false
	}
	defer d.Close()
	return d.Ping() == nil
}

func ready(addr string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two `make run`s and a `shelin pg -- true` on one checkout: the first
// demo keeps serving throughout; the second says the port is taken and
// leaves the database alone; Ctrl-C on the first stops the cluster it
// started.
func TestCommandsNeverStopAnotherOnesDatabase(t *testing.T) {
	e := newOpsEnv(t)
	addr := freeAddr(t)
	var out1 syncBuffer
	first := e.cmd("dev", "--demo=false", "--addr", addr)
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-first.Process.Pid, syscall.SIGKILL)
	})
	waitFor(t, "the first server's /readyz", 2*time.Minute, func() bool { return ready(addr) == 200 })

	// A command that finds the cluster running uses it and leaves it running.
	pg := e.cmd("pg", "--", "sh", "-c", `psql "$DATABASE_URL" -tAc 'SELECT 1'`)
	if out, err := pg.CombinedOutput(); err != nil || !strings.Contains(string(out), "1") {
		t.Fatalf("shelin pg -- psql: %v\n%s", err, out)
	} else if strings.Contains(string(out), "PostgreSQL stopped") {
		t.Fatalf("shelin pg stopped a cluster it did not start:\n%s", out)
	}
	if code := ready(addr); code != 200 {
		t.Fatalf("after shelin pg -- …, the first server's /readyz answers %d\n%s", code, out1.String())
	}

	// A second `make run` on the same port: one clear line, cluster untouched.
	second := e.cmd("dev", "--demo=false", "--addr", addr)
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second dev on a busy port succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "already in use") || !strings.Contains(string(out), addr) {
		t.Errorf("second dev should say the port is in use and where:\n%s", out)
	}
	if strings.Contains(string(out), "PostgreSQL") {
		t.Errorf("second dev touched PostgreSQL:\n%s", out)
	}
	if code := ready(addr); code != 200 {
		t.Fatalf("after a second dev, the first server's /readyz answers %d", code)
	}

	// "listening" comes after the bind, exactly once.
	if n := strings.Count(out1.String(), "listening"); n != 1 {
		t.Errorf("first server logged listening %d times:\n%s", n, out1.String())
	}

	// Ctrl-C (SIGINT to the terminal's group) on the first: it stops
	// serving and stops the cluster it started.
	syscall.Kill(-first.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("dev did not exit on SIGINT:\n%s", out1.String())
	}
	if e.pgUp() {
		t.Fatalf("PostgreSQL still runs after the dev that started it exited:\n%s", out1.String())
	}
}

// Ctrl-C on `shelin pg -- long command` (as on `make test`) leaves no
// PostgreSQL running; so does a SIGTERM sent to shelin pg alone, which
// passes it on to the command.
func TestAnInterruptedPGCommandLeavesNoPostgres(t *testing.T) {
	e := newOpsEnv(t)
	for _, how := range []string{"SIGINT to the group", "SIGTERM to shelin pg"} {
		c := e.cmd("pg", "--", "sleep", "600")
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		waitFor(t, "the private cluster", 2*time.Minute, e.pgUp)
		time.Sleep(300 * time.Millisecond) // sleep has started
		if how == "SIGINT to the group" {
			syscall.Kill(-c.Process.Pid, syscall.SIGINT)
		} else {
			c.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			t.Fatalf("%s: shelin pg did not exit:\n%s", how, out.String())
		}
		if e.pgUp() {
			t.Fatalf("%s: PostgreSQL still runs:\n%s", how, out.String())
		}
		if !strings.Contains(out.String(), "PostgreSQL stopped") {
			t.Errorf("%s: no word that PostgreSQL stopped:\n%s", how, out.String())
		}
	}
}

// An unknown flag is reported once, on one line, naming the command.
func TestAnUnknownFlagIsReportedOnce(t *testing.T) {
	e := newOpsEnv(t)
	out, err := e.cmd("serve", "--nope").CombinedOutput()
	if err == nil {
		t.Fatal("serve --nope succeeded")
	}
	if n := strings.Count(string(out), "-nope"); n != 1 {
		t.Fatalf("the bad flag is named %d times:\n%s", n, out)
	}
	if strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("more than one line:\n%s", out)
	}
	if out, err := e.cmd("serve", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "-addr") {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
}

// `shelin pg -- CMD` exits with CMD's status, so make and CI see the same
// code as without it; the cluster is released either way.
func TestPGPassesTheCommandsExitStatusOn(t *testing.T) {
	e := newOpsEnv(t)
	c := e.cmd("pg", "--", "sh", "-c", "exit 3")
	out, err := c.CombinedOutput()
	if c.ProcessState == nil || c.ProcessState.ExitCode() != 3 {
		t.Fatalf("exit status %v (%v), want 3:\n%s", c.ProcessState, err, out)
	}
	if e.pgUp() {
		t.Fatalf("PostgreSQL still runs:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer a running process writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
