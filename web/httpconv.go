package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/etag"
)

// HTTP conventions applied from the route table:
//
//   - every GET answers HEAD the same way, without a body (streams excepted:
//     a HEAD of Server-Sent Events has nothing to describe);
//   - public GETs that show content (pages, images, receipts, the public
//     fund) carry a strong ETag and answer If-None-Match with 304;
//   - 429 and 503 answers carry Retry-After (see errors.go, health.go).

// alsoHEAD reports whether r is served for HEAD as well.
func alsoHEAD(r route) bool {
	return r.Method == fiber.MethodGet && !strings.HasSuffix(r.Path, "/events")
}

var publicETag = etag.New()

// conditional reports whether r's answers carry an ETag.
func conditional(r route) bool {
	if r.Method != fiber.MethodGet || r.Allow != nil {
		return false
	}
	switch r.Path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}

// handlers is r's handler chain: access rule, conventions, handler.
func (s *Server) handlers(r route) []fiber.Handler {
	h := []fiber.Handler{s.guard(r)}
	if conditional(r) {
		h = append(h, publicETag)
	}
	return append(h, r.Handler)
}

// retryAfter is the Retry-After (seconds) of a 429 or 503 answer.
const retryAfter = "30"
