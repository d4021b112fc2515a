package web

import (
	"bytes"
	"encoding/csv"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shelin/groupbuy"
)

// groupBuyChecklistCSV is GET {c}/groupbuys/{id}/checklist.csv: the pickup
// checklist by building (paid and confirmed joins), phones masked.
func (s *Server) groupBuyChecklistCSV(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	js, err := s.gb.Joins(c.UserContext(), s.db, camp.ID)
	if err != nil {
		return err
	}
	l, zone := lang(c), community(c).Location()
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel opens UTF-8 with a BOM
	w := csv.NewWriter(&buf)
	t := func(k string) string { return s.ui.t(l, k) }
	_ = w.Write([]string{t("gb.col.building"), t("gb.col.name"), t("gb.col.phone"), t("gb.col.qty"), t("gb.col.status"), t("gb.col.picked_up")})
	for _, j := range js {
		if j.Status != groupbuy.JoinPaid && j.Status != groupbuy.JoinConfirmed {
			continue
		}
		picked := ""
		if j.PickedUpAt != nil {
			picked = j.PickedUpAt.In(zone).Format("2006-01-02 15:04")
			if j.PickedUpFor != "" {
				picked += " (" + j.PickedUpFor + ")"
			}
		}
		_ = w.Write([]string{j.Building, j.Name, groupbuy.MaskPhone(j.Phone), strconv.Itoa(j.Qty), t("gb.status." + j.Status), picked})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="groupbuy-checklist.csv"`)
	return c.Send(buf.Bytes())
}
