package web

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/pos"
)

// pairDevice is POST /api/v1/pos/pair {"code"}: a tablet exchanges its
// pairing code for its long-lived credential (also set as an HttpOnly cookie).
func (s *Server) pairDevice(c *fiber.Ctx) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	// Wrong codes from one address back off like wrong passwords.
	attempt, err := s.ids.ReservePairing(c.UserContext(), s.clientIP(c))
	if err != nil {
		return s.signInError(c, err)
	}
	var dev *pos.Device
	var cred string
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		if dev, cred, err = s.pos.svc.Pair(c.UserContext(), tx, req.Code); err != nil {
			return err
		}
		return attempt.Succeeded(c.UserContext(), tx)
	})
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: deviceCookie, Value: cred, Path: "/", HTTPOnly: true, SameSite: "Strict",
		Secure: c.Protocol() == "https", Expires: time.Now().AddDate(5, 0, 0)})
	return c.Status(http.StatusCreated).JSON(fiber.Map{"device": dev, "credential": cred})
}
