package web

import (
	"github.com/gofiber/fiber/v2"
)

// zreportView is what templates/zreport.html shows.
type zreportView struct {
	CommunityID string
	Paper       string // a4 or 58mm
	Hash        string
	PrevHash    string
	Version     int
	ClosedBy    string
	Body        any
	Stalls      any
}

// getZReport is GET {c}/days/{date}/z-report: the day's immutable report,
// printable on A4 or 58 mm paper (?paper=58mm); ?format=json for its JSON
// with the hashes.
func (s *Server) getZReport(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	z, err := s.rec.ZReportOf(c.UserContext(), community(c).ID, date)
	if err != nil {
		return err
	}
	if c.Query("format") == "json" || (!acceptsHTML(c) && c.Query("format") != "html") {
		return c.JSON(fiber.Map{"day": z.Day, "version": z.Version, "hash": z.Hash, "prev_hash": z.PrevHash, "body": z.Body})
	}
	paper := "a4"
	if c.Query("paper") == "58mm" {
		paper = "58mm"
	}
	z.Body.ClosedAt = z.Body.ClosedAt.In(community(c).Location())
	return s.render(c, "zreport", "z.title", zreportView{CommunityID: community(c).ID, Paper: paper, Hash: z.Hash, PrevHash: z.PrevHash,
		Version: z.Version, ClosedBy: z.ClosedBy, Body: z.Body})
}
