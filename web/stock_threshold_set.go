package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
)

// setStockThreshold sets the low-stock threshold of a product at a location.
func (s *Server) setStockThreshold(c *fiber.Ctx) error {
	var in struct {
		ProductID    string `json:"product_id"`
		LocationID   string `json:"location_id"`
		LowThreshold int    `json:"low_threshold"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		return s.inv.SetThreshold(c.UserContext(), tx, community(c).ID, in.ProductID, in.LocationID, in.LowThreshold)
	})
	if err != nil {
		return err
	}
	lv, err := s.inv.LevelOf(c.UserContext(), s.db, community(c).ID, in.ProductID, in.LocationID)
	if err != nil {
		return err
	}
	return c.JSON(lv)
}
