package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river"

	"shelin/reconcile"
)

// initReconcile wires the treasurer's day (package reconcile).
func (s *Server) initReconcile() {
	s.rec = reconcile.New(s.db, s.ids, s.pos.svc)
	sources := map[string]reconcile.StatementSource{}
	if s.cfg.Sandbox {
		sources["sandbox"] = reconcile.SandboxSource{S: s.rec}
	}
	river.AddWorker(s.workers, &reconcile.DownloadWorker{S: s.rec, Sources: sources})
	s.periodic = append(s.periodic, reconcile.PeriodicJobs()...)
}

// Reconcile exposes the treasurer's day (demo data, tests).
func (s *Server) Reconcile() *reconcile.Service { return s.rec }

// dayParam is the :date of a day route, checked.
func dayParam(c *fiber.Ctx) (string, error) { return dayValue(c, c.Params("date")) }

// dayValue checks a YYYY-MM-DD day ("today": the community's today).
func dayValue(c *fiber.Ctx, d string) (string, error) {
	if d == "today" || d == "" {
		return reconcile.Today(time.Now(), community(c).Location()), nil
	}
	if _, err := reconcile.ParseDay(d); err != nil {
		return "", err
	}
	return string([]byte(d)), nil
}
