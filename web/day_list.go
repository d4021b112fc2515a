package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/reconcile"
)

// listDays is GET {c}/days?from=&to=: the calendar of days with their
// status and totals (default: the last 31 days).
func (s *Server) listDays(c *fiber.Ctx) error {
	from, to, err := calendarRange(c)
	if err != nil {
		return err
	}
	days, err := s.rec.Calendar(c.UserContext(), community(c).ID, from, to)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": days})
}

func calendarRange(c *fiber.Ctx) (time.Time, time.Time, error) {
	today, _ := reconcile.ParseDay(reconcile.Today(time.Now(), community(c).Location()))
	from, to := today.AddDate(0, 0, -30), today
	var err error
	if v := c.Query("from"); v != "" {
		if from, err = reconcile.ParseDay(v); err != nil {
			return from, to, err
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = reconcile.ParseDay(v); err != nil {
			return from, to, err
		}
	}
	return from, to, nil
}
