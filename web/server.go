// Package web is Shelin's HTTP face: the JSON API of API.md and the pages,
// served by Fiber. Routes live in routes.go, one handler per file, errors are
// mapped to HTTP in errors.go, and templates, static files and the message
// catalogue are embedded in the binary.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/jobs"
	"shelin/inventory"
	"shelin/reconcile"
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
	// TrustedProxies are the reverse proxies (SHELIN_TRUSTED_PROXIES, CIDRs)
	// whose X-Forwarded-For is believed: the client address is the nearest
	// one in that header that is not a trusted proxy. Empty: the address of
	// the connection, and the header is ignored.
	TrustedProxies []netip.Prefix
	// WeChatPayHost and AlipayGateway send the real providers' API calls
	// elsewhere (SHELIN_WECHATPAY_HOST, SHELIN_ALIPAY_GATEWAY: a proxy, or
	// the loopback fakes in tests); empty is the providers' own hosts.
	WeChatPayHost string
	AlipayGateway string
}

// ParseTrustedProxies reads SHELIN_TRUSTED_PROXIES: CIDRs or single
// addresses separated by commas or spaces ("" is none).
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("SHELIN_TRUSTED_PROXIES: %q is not a CIDR like 10.0.0.0/8", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("SHELIN_TRUSTED_PROXIES: %q is not an address or a CIDR", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
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
	pos *posArea          // the stall: sales, payments, receipts, tablets (pos.go)
	gb  *groupbuy.Service // charity group-buys (groupbuy*.go)
	// rec is the treasurer's day: statements, issues, close, Z-reports (day.go).
	rec *reconcile.Service

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
	s.initGroupBuy()
	s.initReconcile()
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
		// Fiber's own proxy support (ProxyHeader) answers the leftmost
		// X-Forwarded-For entry, which the client writes itself; clientIP
		// reads the header from the right, through Config.TrustedProxies.
		ProxyHeader: "",
	})
	s.middleware(app)
	s.mount(app)
	return app
}
