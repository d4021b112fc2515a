package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// saleEvents is GET {c}/sales/{id}/events: Server-Sent Events of the sale's
// status, fed by PostgreSQL LISTEN/NOTIFY so that a payment confirmed on
// another replica reaches this stream. Every event carries the whole sale.
func (s *Server) saleEvents(c *fiber.Ctx) error {
	cid, id := community(c).ID, strings.Clone(c.Params("id"))
	first, err := s.saleOf(c.UserContext(), s.db, cid, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	var events <-chan struct{}
	var cancel func()
	if s.pos.hub != nil {
		ch, unsub := s.pos.hub.Subscribe(id)
		relay := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-ch:
					select {
					case relay <- struct{}{}:
					default:
					}
				case <-done:
					return
				}
			}
		}()
		events, cancel = relay, func() { close(done); unsub() }
	}
	ctx := s.ctx
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		if cancel != nil {
			defer cancel()
		}
		send := func(v saleJSON) bool {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "event: sale\ndata: %s\n\n", b)
			return w.Flush() == nil
		}
		last := saleEventKey(first)
		if !send(first) {
			return
		}
		poll := time.NewTicker(time.Second)
		if events != nil {
			poll.Reset(15 * time.Second)
		}
		defer poll.Stop()
		beat := time.NewTicker(15 * time.Second)
		defer beat.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-beat.C:
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil || w.Flush() != nil {
					return
				}
				continue
			case <-events:
			case <-poll.C:
			}
			v, err := s.saleOf(ctx, s.db, cid, id)
			if err != nil {
				return
			}
			if now := saleEventKey(v); now != last {
				last = now
				if !send(v) {
					return
				}
			}
		}
	}))
	return nil
}

// saleEventKey is what a sale's event stream reports a change of: its
// status, what was refunded, and whether its QR has arrived (a WeChat Pay
// or Alipay QR is created after the sale, see pos/providers.go).
func saleEventKey(v saleJSON) string {
	return v.Status + "/" + v.RefundedTotal.String() + "/" + fmt.Sprint(v.Payment.QRPayload != nil)
}
