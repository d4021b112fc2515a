package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/pos"
)

// createStall is POST {c}/stalls {"location_id","prefix"}: make a stall
// location sellable at, with the prefix of its order numbers (e.g. "MD").
func (s *Server) createStall(c *fiber.Ctx) error {
	var req struct {
		LocationID string `json:"location_id"`
		Prefix     string `json:"prefix"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cid := community(c).ID
	var st *pos.Stall
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		st, err = s.pos.svc.SetupStall(c.UserContext(), tx, cid, req.LocationID, req.Prefix)
		return
	})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(st)
}
