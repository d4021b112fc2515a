package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/db"
)

// healthz answers while the process is alive.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"ok": true, "version": s.cfg.Version})
}

// readyz answers 200 when the database is reachable and the schema current.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"ok": false, "reason": "database unreachable"})
	}
	n, err := db.Pending(ctx, s.db.DB)
	if err != nil || n > 0 {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"ok": false, "reason": "schema out of date", "pending": n})
	}
	return c.JSON(fiber.Map{"ok": true})
}
