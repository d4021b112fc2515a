package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/db"
)

type pickupRequest struct {
	Code string `json:"code"`
	For  string `json:"for"` // picked up on behalf of this neighbour
}

// pickupGroupBuy is POST {c}/groupbuys/{id}/pickups {"code"}: a code works once.
func (s *Server) pickupGroupBuy(c *fiber.Ctx) error {
	var req pickupRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	var j *groupbuy.Join
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		var err error
		j, err = s.gb.Pickup(c.UserContext(), tx, camp.CommunityID, camp.ID, req.Code, currentUser(c).ID, req.For)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": j.ID, "status": j.Status, "name": j.Name, "phone": groupbuy.MaskPhone(j.Phone),
		"building": j.Building, "qty": j.Qty, "picked_up_at": j.PickedUpAt, "picked_up_for": j.PickedUpFor})
}
