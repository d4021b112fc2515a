package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"shelin/internal/devpg"
)

// privateCluster describes the developer's private PostgreSQL under ./var/pg.
func privateCluster() (*devpg.Cluster, error) {
	port, err := strconv.Atoi(envOr("SHELIN_PG_PORT", "54329"))
	if err != nil {
		return nil, errors.New("SHELIN_PG_PORT must be a port number")
	}
	return devpg.New(envOr("SHELIN_PG_DIR", "var/pg"), port, func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "shelin: "+f+"\n", a...)
	})
}

// cmdPG runs a command with DATABASE_URL set: as given, or the private
// cluster, started for the command and stopped after it.
func cmdPG(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("usage: shelin pg -- COMMAND [ARGS]")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	if os.Getenv("DATABASE_URL") == "" {
		cl, err := privateCluster()
		if err != nil {
			return err
		}
		if err := cl.Start(); err != nil {
			return err
		}
		defer cl.Stop()
		cmd.Env = append(cmd.Env, "DATABASE_URL="+cl.URL("postgres"))
		fmt.Fprintf(os.Stderr, "shelin: using the private PostgreSQL at %s\n", cl.URL("postgres"))
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s exited with status %d", args[0], ee.ExitCode())
		}
		return err
	}
	return nil
}
