package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"shelin/internal/devpg"
)

// privateCluster describes the developer's private PostgreSQL under ./var/pg.
func privateCluster() (*devpg.Cluster, error) {
	port, err := strconv.Atoi(envOr("SHELIN_PG_PORT", "54329"))
	if err != nil || port < 1 || port > 65535 {
		return nil, errors.New("SHELIN_PG_PORT must be a port number (1-65535)")
	}
	return devpg.New(envOr("SHELIN_PG_DIR", "var/pg"), port, func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "shelin: "+f+"\n", a...)
	})
}

// acquireCluster starts (or joins) the private cluster and returns the
// function that leaves it: the cluster stops only when the last command
// using it leaves and one of them started it.
func acquireCluster(cl *devpg.Cluster) (release func(), err error) {
	started, err := cl.Acquire()
	if err != nil {
		return nil, err
	}
	if started {
		fmt.Fprintf(os.Stderr, "shelin: started the private PostgreSQL at %s\n", cl.URL("postgres"))
	} else {
		fmt.Fprintf(os.Stderr, "shelin: using the private PostgreSQL already running at %s\n", cl.URL("postgres"))
	}
	return func() {
		stopped, err := cl.Release()
		switch {
		case err != nil:
			fmt.Fprintln(os.Stderr, "shelin: stopping PostgreSQL:", err)
		case stopped:
			fmt.Fprintln(os.Stderr, "shelin: PostgreSQL stopped")
		}
	}, nil
}

// cmdPG runs a command with DATABASE_URL set: as given, or the private
// cluster, started for the command when needed and stopped after it only
// when nothing else uses it. SIGINT and SIGTERM are passed to the command;
// the cluster is released once it has exited.
func cmdPG(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("usage: shelin pg -- COMMAND [ARGS]")
	}
	// Catch the signals before anything starts, so that a Ctrl-C at any
	// moment still releases the cluster.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	if os.Getenv("DATABASE_URL") == "" {
		cl, err := privateCluster()
		if err != nil {
			return err
		}
		release, err := acquireCluster(cl)
		if err != nil {
			return err
		}
		defer release()
		cmd.Env = append(cmd.Env, "DATABASE_URL="+cl.URL("postgres"))
	}
	select {
	case s := <-sigc:
		return fmt.Errorf("interrupted (%v) before %s started", s, args[0])
	default:
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	var got os.Signal
wait:
	for {
		select {
		case err = <-done:
			break wait
		case s := <-sigc:
			// A Ctrl-C in a terminal reaches the command too (same process
			// group); a signal sent to us alone is passed on. A second
			// signal, or a command that ignores the first for 30 s, kills it.
			if got != nil {
				cmd.Process.Kill()
				continue
			}
			got = s
			cmd.Process.Signal(s)
			go func() {
				time.Sleep(30 * time.Second)
				cmd.Process.Kill()
			}()
		}
	}
	if got != nil {
		return fmt.Errorf("%s stopped by %v", args[0], got)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return exitStatus{ee.ExitCode(), fmt.Sprintf("%s exited with status %d", args[0], ee.ExitCode())}
		}
		return err
	}
	return nil
}

// exitStatus makes shelin exit with a wrapped command's status (make and CI
// see the same code as without `shelin pg`).
type exitStatus struct {
	code int
	msg  string
}

func (e exitStatus) Error() string { return e.msg }

// privateClusterAt describes a private cluster in dir on port (tests).
func privateClusterAt(dir, port string) (*devpg.Cluster, error) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	return devpg.New(dir, p, nil)
}
