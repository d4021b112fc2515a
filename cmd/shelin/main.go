// Command shelin is Shelin's one binary: the web service, migrations, the
// developer's private database with demo data, and maintenance commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `shelin — point of sale, charity group-buys and a traceable community fund

Usage:
  shelin serve [flags]        run the web service
  shelin migrate [flags]      apply database migrations (a second run is a no-op)
  shelin dev [flags]          private PostgreSQL under ./var/pg (unless DATABASE_URL is set),
                              migrations, demo data once, then serve
  shelin seed-demo [flags]    load the Wuhan Road demo data (once)
  shelin pg -- CMD [ARGS]     run CMD with DATABASE_URL pointing at the private cluster
                              unless DATABASE_URL is already set: started if needed, and
                              stopped after only when nothing else uses it; exits with
                              CMD's status
  shelin verify               check every community: ledger, stock, and every sale's money
                              and stock against the ledger, in one snapshot each
  shelin ledger verify        the same (alias)
  shelin stock verify         check every stock level against its movements and lots
  shelin backup [FILE]        consistent pg_dump (custom format) with a checksum and the
                              schema version beside it (FILE.sha256, FILE.meta)
  shelin restore FILE         restore a backup into an empty database and verify it
  shelin bench groupbuy-rush  2,000 neighbours join a group-buy capped at 500 at once (a
                              scratch community); prints the time, pays every held join, verifies
  shelin healthcheck          exit 0 when the local server answers /healthz (Docker HEALTHCHECK)
  shelin version              print the version

Run "shelin COMMAND --help" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(args)
	case "migrate":
		err = cmdMigrate(args)
	case "dev":
		err = cmdDev(args)
	case "seed-demo":
		err = cmdSeedDemo(args)
	case "pg":
		err = cmdPG(args)
	case "verify":
		err = cmdVerify("verify", args)
	case "backup":
		err = cmdBackup(args)
	case "restore":
		err = cmdRestore(args)
	case "ledger":
		err = cmdLedger(args)
	case "stock":
		err = cmdStock(args)
	case "bench":
		err = cmdBench(args)
	case "healthcheck":
		err = cmdHealthcheck()
	case "version", "--version", "-v":
		fmt.Println("shelin", version)
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "shelin: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "shelin:", err)
		var es exitStatus
		if errors.As(err, &es) {
			os.Exit(es.code)
		}
		os.Exit(1)
	}
}

// parseFlags parses a command's flags. --help prints the flags and returns
// flag.ErrHelp (exit 0); a bad flag comes back as one error, printed once by
// main, with a hint where the flags are listed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		if fs.Usage != nil {
			fs.Usage()
		} else {
			fmt.Printf("Usage of shelin %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return flag.ErrHelp
	}
	if err != nil {
		return fmt.Errorf("%s: %v (see shelin %s --help)", fs.Name(), err, fs.Name())
	}
	return nil
}
