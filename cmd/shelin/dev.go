package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// cmdDev is `make run`: a private PostgreSQL (unless DATABASE_URL is set),
// migrations, the demo data once, then the server, with the URL and the demo
// logins printed. Ctrl-C stops the server and then the cluster.
func cmdDev(args []string) error {
	var cfg config
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	cfg.register(fs)
	// Development simulates payments unless told otherwise.
	if os.Getenv("SHELIN_SANDBOX") == "" {
		f := fs.Lookup("sandbox")
		f.DefValue = "on"
		if err := f.Value.Set("on"); err != nil {
			return err
		}
	}
	demo := fs.Bool("demo", true, "load the Wuhan Road demo data (once)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Signals first: a Ctrl-C while PostgreSQL starts or the demo loads
	// still releases the cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("SHELIN_LOG_FORMAT") == "" {
		cfg.LogFormat = "text"
	}
	if cfg.SecretKey == "" {
		k, err := devSecret("var/secret-key", 32)
		if err != nil {
			return err
		}
		cfg.SecretKey = k
	}
	if cfg.SandboxSecret == "" {
		k, err := devSecret("var/sandbox-secret", 24)
		if err != nil {
			return err
		}
		cfg.SandboxSecret = k
	}
	if cfg.AdminLogin == "" {
		cfg.AdminLogin, cfg.AdminPassword = "platform", demoPassword
	}
	// Bind the port before touching the database: a second `make run`
	// stops here and leaves the first one's PostgreSQL alone.
	if err := checkAddr(cfg.Addr); err != nil {
		return err
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.DatabaseURL == "" {
		cl, err := privateCluster()
		if err != nil {
			return err
		}
		release, err := acquireCluster(cl)
		if err != nil {
			return err
		}
		defer release()
		if err := cl.CreateDB("shelin"); err != nil {
			return err
		}
		cfg.DatabaseURL = cl.URL("shelin")
	}
	if err := cfg.check(); err != nil {
		return err
	}
	if _, err := migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	logins := demoLogins
	if *demo {
		if logins, err = seedDemo(ctx, cfg); err != nil {
			return fmt.Errorf("demo data: %w (what was loaded stays: start again from an empty database, e.g. rm -rf var/pg for make run's own)", err)
		}
	}
	return serve(ctx, cfg, ln, func() {
		fmt.Printf("\n  Shelin is running: %s\n\n", cfg.BaseURL)
		fmt.Printf("  Sign in with any of these (password %q):\n", demoPassword)
		for _, l := range logins {
			fmt.Printf("    %-12s %s\n", l[0], l[1])
		}
		fmt.Printf("    %-12s %s\n", cfg.AdminLogin, "platform admin")
		fmt.Printf("\n  Public fund page: %s/c/%s\n  Press Ctrl-C to stop.\n\n", cfg.BaseURL, demoSlug)
	})
}

// devSecret reads a development secret from path, creating it once.
func devSecret(path string, n int) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := hex.EncodeToString(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}
