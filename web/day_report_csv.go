package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/reconcile"
)

// dayReportCSV is GET {c}/days/{date}/report.csv: the day as CSV, UTF-8
// with a BOM so that Excel and WPS read the Chinese right.
func (s *Server) dayReportCSV(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	d, err := s.rec.Day(c.UserContext(), community(c).ID, date)
	if err != nil {
		return err
	}
	l := lang(c)
	body := reconcile.ReportCSV(d, func(k string) string { return s.ui.t(l, "day.csv."+k) })
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="shelin-day-`+date+`.csv"`)
	return c.Send(body)
}
