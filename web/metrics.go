package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shelin/internal/db"
)

var txRetries = prometheus.NewCounterFunc(prometheus.CounterOpts{
	Name: "shelin_db_tx_retries_total", Help: "Transactions re-run after a serialization failure or deadlock.",
}, func() float64 { return float64(db.Retries()) })

func init() { prometheus.MustRegister(txRetries) }

var promHandler = adaptor.HTTPHandler(promhttp.Handler())

// metrics serves Prometheus metrics.
func (s *Server) metrics(c *fiber.Ctx) error { return promHandler(c) }
