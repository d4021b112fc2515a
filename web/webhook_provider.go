package web

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
)

// webhookDeadline keeps every provider callback's answer within WeChat's
// 5 s: work that takes longer is abandoned (rolled back) and answered with
// a failure, and the provider retries.
const webhookDeadline = 4 * time.Second

// providerNotification hands a real provider's callback to the one
// confirmation path and answers in the provider's own words (WeChat: JSON
// code SUCCESS/FAIL; Alipay: success/fail). Headers are copied (Fiber reuses
// its buffers).
func (s *Server) providerNotification(c *fiber.Ctx, provider string) error {
	h := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) { h.Add(string(k), string(v)) })
	body := bytes.Clone(c.Body())
	ctx, cancel := context.WithTimeout(c.UserContext(), webhookDeadline)
	defer cancel()
	st, ct, resp, err := s.pos.svc.HandleNotification(ctx, provider, h, body)
	if err != nil {
		if st >= 500 {
			s.log.Error("payment notification", "provider", provider, "request_id", requestID(c), "err", err)
		} else {
			s.log.Warn("payment notification refused", "provider", provider, "status", st, "request_id", requestID(c), "err", err)
		}
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Status(st).Send(resp)
}
