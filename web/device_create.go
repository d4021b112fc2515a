package web

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/pos"
)

// createDevice is POST {c}/devices {"location_id","name"}: register a tablet
// for a stall; the answer carries the one-time pairing code (15 minutes) and
// the link that pairs a tablet when opened on it.
func (s *Server) createDevice(c *fiber.Ctx) error {
	var req struct {
		LocationID string `json:"location_id"`
		Name       string `json:"name"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cid, user := community(c).ID, currentUser(c)
	var dev *pos.Device
	var code string
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		dev, code, err = s.pos.svc.CreateDevice(c.UserContext(), tx, cid, req.LocationID, req.Name, user.ID)
		return
	})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"device": dev, "pairing_code": code,
		"pair_url": strings.TrimRight(s.cfg.BaseURL, "/") + "/pos/pair?code=" + code, "expires_at": dev.PairingExpiresAt})
}
