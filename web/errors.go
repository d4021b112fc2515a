package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/reconcile"
)

// status maps every error code to one HTTP status. This is the only place
// where domain errors meet HTTP.
var status = map[apperr.Code]int{
	apperr.Invalid:             http.StatusUnprocessableEntity,
	apperr.NotFound:            http.StatusNotFound,
	apperr.Conflict:            http.StatusConflict,
	apperr.Forbidden:           http.StatusForbidden,
	apperr.Unauthorized:        http.StatusUnauthorized,
	apperr.InsufficientStock:   http.StatusConflict,
	apperr.IdempotencyConflict: http.StatusConflict,
	apperr.DayClosed:           http.StatusConflict,
	apperr.RateLimited:         http.StatusTooManyRequests,
	apperr.Internal:            http.StatusInternalServerError,
}

// errBadRequest marks input that is not even well-formed (400).
var errBadRequest = apperr.New("bad_request", "")

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Display is the message in the reader's language, from the catalogue,
	// when the error names one (apperr.Error.Key): the tablet and pages
	// show it instead of Message.
	Display string `json:"display,omitempty"`
}

// handleError writes every error: JSON for the API, a short page otherwise.
// Internal errors are logged with the request id and never shown.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	code, st, msg, field, display := apperr.Internal, http.StatusInternalServerError, "internal error", "", ""
	err = reconcile.MapError(err) // the database refused a write into a closed day
	var fe *fiber.Error
	if e, ok := apperr.As(err); ok {
		code, msg, field = e.Code, e.Message, e.Field
		if e.Key != "" {
			display = s.say(lang(c), e.Key, e.Args)
		}
		if e.Code == "bad_request" {
			st = http.StatusBadRequest
		} else if v, ok := status[e.Code]; ok {
			st = v
		}
	} else if errors.As(err, &fe) {
		st, msg = fe.Code, fe.Message
		switch {
		case fe.Code == http.StatusNotFound:
			code = apperr.NotFound
		case fe.Code == http.StatusRequestEntityTooLarge:
			code, msg = apperr.Invalid, "the request body is too large"
		case fe.Code == http.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case fe.Code < 500:
			code = "bad_request"
		}
	}
	if st >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
		code, msg, field, display = apperr.Internal, "internal error", "", ""
	}
	if (st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable) && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
		c.Set(fiber.HeaderRetryAfter, retryAfter)
	}
	if isAPI(c) || !acceptsHTML(c) {
		return c.Status(st).JSON(errorBody{errorDetail{Code: string(code), Message: msg, Field: field, Display: display}})
	}
	if display != "" {
		msg = display
	}
	return s.renderStatus(c, st, msg)
}

// say renders a catalogue message whose arguments may themselves be keys
// ("@susp.status.open").
func (s *Server) say(lang, key string, args []string) string {
	vals := make([]any, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "@") {
			vals[i] = s.ui.t(lang, a[1:])
		} else {
			vals[i] = a
		}
	}
	return s.ui.t(lang, key, vals...)
}

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

func acceptsHTML(c *fiber.Ctx) bool { return strings.Contains(c.Get(fiber.HeaderAccept), "text/html") }
