package web

import (
	"bytes"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/orders/payment"
)

// sandboxWebhook is POST /api/v1/webhooks/sandbox: the sandbox provider's
// signed notification. Bad signature or stale timestamp → 400, no change;
// a repeated id → 200, no second effect; a different amount → 422 and the
// payment flagged for the treasurer.
func (s *Server) sandboxWebhook(c *fiber.Ctx) error {
	h := http.Header{}
	h.Set(payment.SignatureHeader, string(c.Request().Header.Peek(payment.SignatureHeader)))
	body := bytes.Clone(c.Body())
	st, ct, resp, err := s.pos.svc.HandleNotification(c.UserContext(), payment.Sandbox, h, body)
	if err != nil {
		code, msg, field := apperr.Internal, "internal error", ""
		if e, ok := apperr.As(err); ok && st < 500 {
			code, msg, field = e.Code, e.Message, e.Field
		} else if st >= 500 {
			s.log.Error("sandbox webhook", "request_id", requestID(c), "err", err)
		}
		return c.Status(st).JSON(errorBody{errorDetail{Code: string(code), Message: msg, Field: field}})
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Status(st).Send(resp)
}
