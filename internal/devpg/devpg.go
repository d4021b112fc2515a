// Package devpg runs a private PostgreSQL cluster under a project folder for
// `make run` and `make test` when DATABASE_URL is unset. It uses the initdb and
// pg_ctl of the installed PostgreSQL and, as root, runs them as the postgres
// system user (PostgreSQL refuses to run as root).
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
)

// Cluster is a private PostgreSQL cluster in Dir, listening on 127.0.0.1:Port.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	log  func(string, ...any)
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

// Start initializes the cluster on first use and starts it unless it is
// already running. It installs Debian's postgresql when it is missing and the
// process runs as root; otherwise it says which command to run.
func (c *Cluster) Start() error {
	bin, err := findBin()
	if err != nil {
		if os.Geteuid() != 0 {
			return errors.New("PostgreSQL is not installed; run: sudo apt-get install -y postgresql")
		}
		c.log("installing PostgreSQL with apt-get (needs the package registry)")
		cmd := exec.Command("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get install postgresql: %w", err)
		}
		if bin, err = findBin(); err != nil {
			return err
		}
	}
	c.bin = bin
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := chownToPostgres(c.Dir); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); err != nil {
		c.log("creating a private PostgreSQL cluster in " + c.Dir)
		if err := c.run("initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
			return err
		}
	}
	if c.run("pg_ctl", "-D", c.Dir, "status") == nil {
		return nil
	}
	opts := fmt.Sprintf("-p %d -k %s -h 127.0.0.1 -c fsync=off -c max_connections=200", c.Port, c.Dir)
	return c.run("pg_ctl", "-D", c.Dir, "-l", filepath.Join(c.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// Stop shuts the cluster down cleanly.
func (c *Cluster) Stop() error {
	if c.bin == "" {
		return nil
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
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
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
