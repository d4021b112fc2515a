// Package devpg runs a private PostgreSQL cluster under a project folder for
// `make run` and `make test` when DATABASE_URL is unset. It uses the initdb and
// pg_ctl of the installed PostgreSQL and, as root, runs them as the postgres
// system user (PostgreSQL refuses to run as root).
//
// Several commands may share the cluster (`make run` in one terminal, `make
// test` in another, `shelin pg -- psql` in a third). Each one holds a lease
// while it uses the cluster: Acquire starts the cluster when it is not
// running and records a lease; Release drops the lease and stops the cluster
// only when no other live process holds one and the cluster was started by
// one of these commands (a cluster someone started by hand is left alone).
// Leases are files named after process ids, so a process killed with SIGKILL
// never keeps the cluster alive forever: the next Release notices it is gone.
package devpg

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Cluster is a private PostgreSQL cluster in Dir, listening on 127.0.0.1:Port.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	log  func(string, ...any)
	// lease is this Cluster value's lease file name ("<pid>.<n>") between
	// Acquire and Release.
	lease string
}

// New describes a cluster in dir (made absolute) on port.
func New(dir string, port int, logf func(string, ...any)) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Cluster{Dir: abs, Port: port, log: logf}, nil
}

// URL is the connection URL of database name.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// leaseDir holds one file per process using the cluster and the "owner"
// file. It sits next to the data directory (which belongs to postgres).
func (c *Cluster) leaseDir() string { return c.Dir + ".leases" }

// Acquire makes sure the cluster runs and records that this process uses it.
// It returns true when this call started the cluster. Call Release when done.
func (c *Cluster) Acquire() (started bool, err error) {
	unlock, err := c.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	started, err = c.start()
	if err != nil {
		return false, err
	}
	if started {
		// Remember that the cluster is ours to stop, whoever releases last.
		if err := os.WriteFile(filepath.Join(c.leaseDir(), "owner"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return started, err
		}
	}
	lease := fmt.Sprintf("%d.%d", os.Getpid(), leaseSeq.Add(1))
	if err := os.WriteFile(filepath.Join(c.leaseDir(), lease), nil, 0o644); err != nil {
		return started, err
	}
	c.lease = lease
	return started, nil
}

// Release drops this process's lease. When no other live process holds one
// and the cluster was started by one of these commands, it stops the
// cluster and returns true. A cluster started outside (by hand) keeps
// running.
func (c *Cluster) Release() (stopped bool, err error) {
	if c.lease == "" {
		return false, nil
	}
	unlock, err := c.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	os.Remove(filepath.Join(c.leaseDir(), c.lease))
	c.lease = ""
	if others := c.liveLeases(); len(others) > 0 {
		c.log("leaving PostgreSQL running: still used by process %s", strings.Join(others, ", "))
		return false, nil
	}
	owner := filepath.Join(c.leaseDir(), "owner")
	if _, err := os.Stat(owner); err != nil {
		return false, nil // not started by us: not ours to stop
	}
	c.settle()
	if err := c.Stop(); err != nil {
		return false, err
	}
	os.Remove(owner)
	return true, nil
}

var leaseSeq atomic.Int64

// settle waits (up to 5 s) until no client is connected, so that clean-ups
// still running when the last command leaves (a test process's reaper
// dropping its databases) can finish before the cluster stops.
func (c *Cluster) settle() {
	quiet := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && quiet < 2; {
		out, err := c.output("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres", "-tAc",
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
		if err != nil {
			return
		}
		if strings.TrimSpace(out) == "0" {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Users lists the process ids holding a live lease (this one included).
func (c *Cluster) Users() []string {
	return c.liveLeases()
}

// liveLeases lists leases of processes that still exist, removing the
// others.
func (c *Cluster) liveLeases() []string {
	ents, _ := os.ReadDir(c.leaseDir())
	var live []string
	for _, e := range ents {
		p, _, _ := strings.Cut(e.Name(), ".")
		pid, err := strconv.Atoi(p)
		if err != nil {
			continue
		}
		if Alive(pid) {
			live = append(live, p)
		} else {
			os.Remove(filepath.Join(c.leaseDir(), e.Name()))
		}
	}
	return live
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lock serializes Acquire and Release between processes (flock on a file in
// the lease folder).
func (c *Cluster) lock() (func(), error) {
	if err := os.MkdirAll(c.leaseDir(), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(c.leaseDir(), "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Start initializes the cluster on first use and starts it unless it is
// already running. Prefer Acquire/Release, which share the cluster safely.
func (c *Cluster) Start() error {
	_, err := c.start()
	return err
}

// Running reports whether the cluster's postmaster is up.
func (c *Cluster) Running() bool {
	if c.bin == "" {
		bin, err := findBin()
		if err != nil {
			return false
		}
		c.bin = bin
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); err != nil {
		return false
	}
	return c.run("pg_ctl", "-D", c.Dir, "status") == nil
}

// start initializes and starts the cluster; it reports whether it started
// it (false when it was already running). It installs Debian's postgresql
// when it is missing and the process runs as root; otherwise it says which
// command to run.
func (c *Cluster) start() (bool, error) {
	bin, err := findBin()
	if err != nil {
		if os.Geteuid() != 0 {
			return false, errors.New("PostgreSQL is not installed; run: sudo apt-get install -y postgresql")
		}
		c.log("installing PostgreSQL with apt-get (needs the package registry)")
		cmd := exec.Command("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return false, fmt.Errorf("apt-get install postgresql: %w", err)
		}
		if bin, err = findBin(); err != nil {
			return false, err
		}
	}
	c.bin = bin
	// The parent (./var) must stay reachable by the postgres system user:
	// create it world-traversable, and the cluster folder private.
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return false, err
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return false, err
	}
	if os.Geteuid() == 0 {
		if err := reachableByPostgres(c.Dir); err != nil {
			return false, err
		}
		if err := chownToPostgres(c.Dir); err != nil {
			return false, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); err != nil {
		c.log("creating a private PostgreSQL cluster in " + c.Dir)
		if err := c.run("initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
			return false, err
		}
	}
	if c.run("pg_ctl", "-D", c.Dir, "status") == nil {
		return false, nil
	}
	opts := fmt.Sprintf("-p %d -k %s -h 127.0.0.1 -c fsync=off -c max_connections=200", c.Port, c.Dir)
	if err := c.run("pg_ctl", "-D", c.Dir, "-l", filepath.Join(c.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return false, err
	}
	return true, nil
}

// Stop shuts the cluster down cleanly, whoever uses it. Prefer Release.
func (c *Cluster) Stop() error {
	if c.bin == "" {
		bin, err := findBin()
		if err != nil {
			return err
		}
		c.bin = bin
	}
	return c.run("pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop")
}

// CreateDB creates database name if it does not exist.
func (c *Cluster) CreateDB(name string) error {
	out, err := c.output("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres", "-tAc",
		"SELECT 1 FROM pg_database WHERE datname='"+name+"'")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == "1" {
		return nil
	}
	return c.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", name)
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if _, err := os.Stat(path); err != nil {
		path = name
	}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	// The server must not share our process group: a Ctrl-C in the
	// terminal goes to the foreground group, and the cluster is stopped by
	// Release, not by the signal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (c *Cluster) run(name string, args ...string) error {
	cmd := c.command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *Cluster) output(name string, args ...string) (string, error) {
	out, err := c.command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return string(out), nil
}

// findBin finds the directory of initdb and pg_ctl: on PATH, or the newest
// /usr/lib/postgresql/*/bin.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL (initdb, pg_ctl) not found")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// reachableByPostgres makes sure the postgres system user can traverse
// every folder above dir. A folder of ours that is closed (e.g. ./var made
// 0700 by an older version) is opened to o+x; any other closed folder is
// reported with the command that fixes it.
func reachableByPostgres(dir string) error {
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(parent); err == nil && fi.Mode().Perm()&0o001 == 0 && filepath.Base(parent) == "var" {
		// ./var holds only files of 0600: letting others traverse it
		// exposes nothing, and lets PostgreSQL reach its data folder.
		if err := os.Chmod(parent, fi.Mode().Perm()|0o011); err != nil {
			return err
		}
	}
	for p := parent; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres system user cannot reach %s: %s is closed to others; run `chmod o+x %s` or set SHELIN_PG_DIR to a folder it can reach", dir, p, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("the postgres system user is missing: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
