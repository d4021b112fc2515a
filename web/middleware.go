package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"shelin/identity"
	"shelin/internal/apperr"
)

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shelin_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "shelin_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
)

func init() { prometheus.MustRegister(httpRequests, httpDuration) }

const sessionCookie = "shelin_session"

func (s *Server) middleware(app *fiber.App) {
	app.Use(s.requestContext)
	app.Use(s.recoverPanic)
	app.Use(s.authenticate)
}

// requestContext sets the request id, security headers, the access log and
// the metrics of every request.
func (s *Server) requestContext(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals("request_id", strings.Clone(id))
	c.Set("X-Request-Id", id)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	err := c.Next()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			c.Status(500)
		}
	}
	st := c.Response().StatusCode()
	route := c.Route().Path
	// Fiber's method string aliases a reused request buffer: labels kept by
	// Prometheus must be copies.
	method := strings.Clone(c.Method())
	httpRequests.WithLabelValues(method, route, strconv.Itoa(st)).Inc()
	httpDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	if c.Path() != "/healthz" && c.Path() != "/metrics" {
		s.log.Info("http", "request_id", id, "method", c.Method(), "path", c.Path(), "status", st,
			"ms", time.Since(start).Milliseconds(), "ip", s.clientIP(c))
	}
	return nil
}

func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = apperr.New(apperr.Internal, "panic")
		}
	}()
	return c.Next()
}

// authenticate finds the session of a bearer token or of the session cookie.
// A cookie-authenticated write must carry the session's CSRF token in the
// X-CSRF-Token header or the _csrf form field.
func (s *Server) authenticate(c *fiber.Ctx) error {
	token, viaCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if v := c.Cookies(sessionCookie); v != "" {
		token, viaCookie = strings.Clone(v), true
	}
	if token == "" {
		return c.Next()
	}
	sess, err := s.ids.Session(c.UserContext(), token)
	if apperr.Is(err, apperr.Unauthorized) {
		if viaCookie {
			c.ClearCookie(sessionCookie)
			return c.Next()
		}
		return err
	}
	if err != nil {
		return err
	}
	if viaCookie && !safeMethod(c.Method()) {
		got := c.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			return apperr.New(apperr.Forbidden, "the form has expired; reload the page and try again")
		}
	}
	c.Locals("session", sess)
	return c.Next()
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}

// session returns the signed-in session, if any.
func session(c *fiber.Ctx) (identity.Session, bool) {
	sess, ok := c.Locals("session").(identity.Session)
	return sess, ok
}

// currentUser returns the signed-in user; routes that allow roles guarantee one.
func currentUser(c *fiber.Ctx) identity.User {
	sess, _ := session(c)
	return sess.User
}

// clientIP is the client's address: the connection's, or, when the
// connection comes from a trusted proxy (Config.TrustedProxies), the nearest
// X-Forwarded-For entry that is not itself a trusted proxy. The header is
// read from the right: entries to the left of the first untrusted one were
// written by the client and prove nothing.
func (s *Server) clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals("client_ip").(string); ok {
		return ip
	}
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr = addr.Unmap()
	if s.trustedProxy(addr) {
		hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = hop.Unmap()
			if !s.trustedProxy(addr) {
				break
			}
		}
	}
	ip := addr.String()
	c.Locals("client_ip", ip)
	return ip
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// pinAllowed reports whether a PIN session (a tablet sign-in) may use a
// route: only routes open to identity.PINRole, the stall role, whatever the
// person's own role. Everything else needs a password session, even for an
// admin: four digits must not unlock what a password protects.
func pinAllowed(r route) bool { return hasRole(r.Allow, identity.PINRole) }

// passwordNeeded is the 403 of a PIN session on a password-only route.
func (s *Server) passwordNeeded(c *fiber.Ctx) error {
	return apperr.New(apperr.Forbidden, "%s", s.ui.t(lang(c), "auth.password_needed"))
}

// signInError gives a throttle's refusal its Retry-After header and a
// message in the visitor's language; other errors pass unchanged.
func (s *Server) signInError(c *fiber.Ctx, err error) error {
	wait, ok := identity.RetryAfter(err)
	if !ok {
		return err
	}
	secs := int((wait + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	l := lang(c)
	var after string
	if secs < 120 {
		after = s.ui.t(l, "auth.wait.seconds", secs)
	} else {
		after = s.ui.t(l, "auth.wait.minutes", (secs+59)/60)
	}
	return apperr.New(apperr.RateLimited, "%s", s.ui.t(l, "auth.throttled", after))
}
