// Package web is Shelin's HTTP face: the JSON API of API.md and the pages,
// served by Fiber. Routes live in routes.go, one handler per file, errors are
// mapped to HTTP in errors.go, and templates, static files and the message
// catalogue are embedded in the binary.
package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/identity"
	"shelin/internal/jobs"
	"shelin/inventory"
)

// Config is what the server needs from the environment.
type Config struct {
	BaseURL       string // public URL used in links and QR codes, no trailing slash
	SecretKey     []byte // signs cookies, encrypts stored secrets
	SandboxSecret string // HMAC key of the sandbox payment provider
	// Sandbox turns the simulated payment provider on (SHELIN_SANDBOX=on:
	// `shelin dev`, `make run`, tests). Off, the provider is not registered
	// and its wallet pages and webhook answer 404.
	Sandbox     bool
	DatabaseURL string // for LISTEN (live sale events); without it streams poll
	Version     string
	Logger      *slog.Logger
	BodyLimit   int // bytes; default 8 MiB (image uploads)
}

// Server holds the domain services the handlers call.
type Server struct {
	cfg Config
	db  *sqlx.DB
	log *slog.Logger
	ids *identity.Service
	ui  *ui
	// inv is the catalogue and stock (inventory.go, product_*.go, stock_*.go).
	inv *inventory.Store
	pos *posArea // the stall: sales, payments, receipts, tablets (pos.go)

	// Durable background work: each area registers workers in registerJobs.
	workers  *river.Workers
	periodic []*river.PeriodicJob
	jobs     *jobs.Client

	// ctx ends when the server shuts down (live event streams watch it).
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a server on an open, migrated database.
func New(cfg Config, d *sqlx.DB) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 8 << 20
	}
	u, err := newUI()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, db: d, log: cfg.Logger, ids: identity.New(d), ui: u, ctx: ctx, cancel: cancel,
		workers: river.NewWorkers()}
	s.inv = inventory.New(d)
	s.initPOS()
	s.registerStuckGauge()
	s.registerJobs()
	return s, nil
}

// Identity exposes the identity service (for the bootstrap admin and demo data).
func (s *Server) Identity() *identity.Service { return s.ids }

// Close stops background work started by the server.
func (s *Server) Close() { s.cancel() }

// App builds the Fiber application with middleware and every route.
func (s *Server) App() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "shelin",
		ErrorHandler:          s.handleError,
		BodyLimit:             s.cfg.BodyLimit,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          0, // live event streams stay open
		IdleTimeout:           120 * time.Second,
		ProxyHeader:           "",
	})
	s.middleware(app)
	s.mount(app)
	return app
}
