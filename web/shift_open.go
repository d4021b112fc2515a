package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/pos"
)

type shiftOpenRequest struct {
	LocationID   string       `json:"location_id"`
	OpeningFloat money.Amount `json:"opening_float"`
	Blind        bool         `json:"blind"`
}

// openShift is POST {c}/shifts: open a stall's shift with a cash float.
func (s *Server) openShift(c *fiber.Ctx) error {
	var req shiftOpenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cid, user, dev := community(c).ID, currentUser(c), s.deviceID(c)
	var sh *pos.Shift
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		sh, err = s.pos.svc.Open(c.UserContext(), tx, cid, pos.OpenShift{LocationID: req.LocationID, DeviceID: dev, UserID: user.ID,
			OpeningFloat: req.OpeningFloat, Blind: req.Blind})
		return
	})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(sh)
}
