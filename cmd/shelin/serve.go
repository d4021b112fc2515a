package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/web"
)

func cmdServe(args []string) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	fs.BoolVar(&cfg.Migrate, "migrate", false, "apply pending migrations before serving")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: shelin serve [flags]\n\nEvery flag can also be set by the environment variable named in its description.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, nil, nil)
}

// listen binds addr, saying who is there when the port is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			host, port, _ := net.SplitHostPort(addr)
			if host == "" {
				host = "localhost"
			}
			return nil, fmt.Errorf("SHELIN_ADDR %s is already in use: another server (perhaps a `make run` in another terminal) answers at http://%s; stop it or set SHELIN_ADDR", addr, net.JoinHostPort(host, port))
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func newLogger(format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// openDB connects and makes sure the schema is current: with migrate it
// applies what is pending, without it it refuses an out-of-date schema.
func openDB(ctx context.Context, cfg config, migrate bool) (*sqlx.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := db.Migrate(ctx, d.DB); err != nil {
			d.Close()
			return nil, err
		}
	}
	n, err := db.Pending(ctx, d.DB)
	if err != nil {
		d.Close()
		return nil, err
	}
	if n > 0 {
		d.Close()
		return nil, fmt.Errorf("the database schema is %d migration(s) behind; run `shelin migrate` or start with --migrate", n)
	}
	return d, nil
}

// serve runs the web service on ln (bound to cfg.Addr when nil) until ctx
// ends, then shuts down gracefully. ready, if not nil, is called once the
// port is bound and the server accepts requests.
func serve(ctx context.Context, cfg config, ln net.Listener, ready func()) error {
	log := newLogger(cfg.LogFormat)
	slog.SetDefault(log)
	if ln == nil {
		var err error
		if ln, err = listen(cfg.Addr); err != nil {
			return err
		}
	}
	defer ln.Close()
	d, err := openDB(ctx, cfg, cfg.Migrate)
	if err != nil {
		return err
	}
	defer d.Close()
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{BaseURL: cfg.BaseURL, SecretKey: cfg.secretKey(), SandboxSecret: cfg.SandboxSecret, Sandbox: cfg.sandboxOn(), DatabaseURL: cfg.DatabaseURL,
		Version: version, Logger: log, TrustedProxies: proxies, WeChatPayHost: cfg.WeChatPayHost, AlipayGateway: cfg.AlipayGateway}, d)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.AdminLogin != "" {
		created, err := srv.Identity().EnsurePlatformAdmin(ctx, cfg.AdminLogin, cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		if created {
			log.Info("created the bootstrap platform admin", "login", cfg.AdminLogin)
		}
	}
	if cfg.sandboxOn() {
		log.Warn("the sandbox payment provider is on: simulated payments are accepted (SHELIN_SANDBOX=on); never use it where real money is taken")
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	app := srv.App()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	// The port is bound (above), so requests queue until Fiber accepts them.
	log.Info("listening", "addr", ln.Addr().String(), "url", cfg.BaseURL, "version", version)
	if ready != nil {
		ready()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Close()
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil {
		return err
	}
	return srv.Stop(context.Background())
}
