package web

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/orders/payment"
	"shelin/pos"
)

// pagePOSAdminDevice is POST /admin/{cid}/pos/devices: register a tablet
// and show its one-time pairing code with a QR code of the pairing link.
func (s *Server) pagePOSAdminDevice(c *fiber.Ctx) error {
	cid, user := community(c).ID, currentUser(c)
	loc, name := strings.Clone(c.FormValue("location_id")), strings.Clone(c.FormValue("name"))
	var dev *pos.Device
	var code string
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		dev, code, err = s.pos.svc.CreateDevice(c.UserContext(), tx, cid, loc, name, user.ID)
		return
	})
	if e, ok := apperr.As(err); ok && (e.Code == apperr.Invalid || e.Code == apperr.NotFound) {
		return s.renderPOSAdmin(c, nil, e.Message, "")
	}
	if err != nil {
		return err
	}
	url := strings.TrimRight(s.cfg.BaseURL, "/") + "/pos?code=" + code
	svg, err := payment.QRSVG(url, 8)
	if err != nil {
		return err
	}
	return s.renderPOSAdmin(c, &posPairing{Device: dev.Name, Code: code, URL: url, QR: template.HTML(svg)}, "", "")
}
