package dbtest

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// The reaper is the test binary itself started with this variable set to
// the server URL: it reads database names on stdin and, when stdin closes
// (its parent exited, however), drops them.
const reaperEnv = "SHELIN_DBTEST_REAPER"

func init() {
	if base := os.Getenv(reaperEnv); base != "" {
		reap(base)
		os.Exit(0)
	}
}

var (
	reaperMu  sync.Mutex
	reaperIn  *os.File
	reaperErr error
)

// track tells the reaper (started on first use) to drop name when this
// process ends. It is called before the database is created.
func track(base, name string) error {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	if reaperIn == nil && reaperErr == nil {
		reaperIn, reaperErr = startReaper(base)
	}
	if reaperErr != nil {
		return fmt.Errorf("start the database reaper: %w", reaperErr)
	}
	_, err := fmt.Fprintln(reaperIn, name)
	return err
}

func startReaper(base string) (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), reaperEnv+"="+base)
	cmd.Stdin = r // the write end stays only in this process
	// Its own process group: a Ctrl-C for the tests must not stop it before
	// it has cleaned up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	go cmd.Wait() // reap the zombie if the reaper ends first
	return w, nil
}

// reap collects names until stdin closes, then drops them.
func reap(base string) {
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var names []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if n := sc.Text(); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return
	}
	defer admin.Close()
	for _, n := range names {
		// The server may be restarting (fault tests) or busy: try a while.
		for try := 0; try < 20; try++ {
			if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(n) + ` WITH (FORCE)`); err == nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}
