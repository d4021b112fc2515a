package web

import (
	"github.com/gofiber/fiber/v2"
)

// formRow is one line of a receive or transfer form, kept when the form
// comes back with an error so that nothing has to be typed again.
type formRow struct {
	ProductID, Qty, LotCode, BestBefore string
}

// stockFormPage is a receive or transfer form with a few rows.
type stockFormPage struct {
	invPageData
	Rows       []formRow
	LocationID string
	FromID     string
	ToID       string
}

// pageStockReceive shows the form to book goods arriving at a location.
func (s *Server) pageStockReceive(c *fiber.Ctx) error {
	return s.renderStockForm(c, "inv_receive", "inv.receive", "", fiber.StatusOK)
}

func (s *Server) renderStockForm(c *fiber.Ctx, tmpl, title, msg string, st int) error {
	base, err := s.invPage(c, true)
	if err != nil {
		return err
	}
	d := stockFormPage{invPageData: base}
	d.Error = msg
	pids, qtys, codes, bbs := formValues(c, "product_id"), formValues(c, "qty"), formValues(c, "lot_code"), formValues(c, "best_before")
	for i := 0; i < 6 || i < len(pids); i++ {
		d.Rows = append(d.Rows, formRow{ProductID: at(pids, i), Qty: at(qtys, i), LotCode: at(codes, i), BestBefore: at(bbs, i)})
	}
	// Sensible defaults: receive at the store, carry from the store to a stall.
	for _, l := range base.Locations {
		if l.Kind == "store" && d.FromID == "" {
			d.FromID, d.LocationID = l.ID, l.ID
		}
		if l.Kind == "stall" && d.ToID == "" {
			d.ToID = l.ID
		}
	}
	if v := formValue(c, "location_id"); v != "" {
		d.LocationID = v
	}
	if v := formValue(c, "from_location_id"); v != "" {
		d.FromID = v
	}
	if v := formValue(c, "to_location_id"); v != "" {
		d.ToID = v
	}
	c.Status(st)
	return s.render(c, tmpl, title, d)
}
