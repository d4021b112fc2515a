package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shelin/internal/db"
	"shelin/orders"
)

var txRetries = prometheus.NewCounterFunc(prometheus.CounterOpts{
	Name: "shelin_db_tx_retries_total", Help: "Transactions re-run after a serialization failure or deadlock.",
}, func() float64 { return float64(db.Retries()) })

func init() { prometheus.MustRegister(txRetries) }

// stuckGauge counts sales awaiting payment past their expiry (their expiry
// job is late: the queue may be down). Registered once per process by the
// first server; it reads the database at scrape time.
func (s *Server) registerStuckGauge() {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shelin_sales_awaiting_past_expiry", Help: "Sales still awaiting payment after their expiry (all communities).",
	}, func() float64 {
		n, err := orders.CountStuckAwaiting(context.Background(), s.db, time.Now())
		if err != nil {
			s.log.Warn("metric: count stuck sales", "err", err)
			return -1
		}
		return float64(n)
	})
	if err := prometheus.Register(g); err != nil {
		s.log.Debug("metric already registered", "metric", "shelin_sales_awaiting_past_expiry")
	}
}

var promHandler = adaptor.HTTPHandler(promhttp.Handler())

// metrics serves Prometheus metrics.
func (s *Server) metrics(c *fiber.Ctx) error { return promHandler(c) }
