package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
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
			"ms", time.Since(start).Milliseconds(), "ip", c.IP())
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
