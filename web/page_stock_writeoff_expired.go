package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
)

// pageStockWriteOffExpired writes off every expired lot at a location (once
// per form).
func (s *Server) pageStockWriteOffExpired(c *fiber.Ctx) error {
	err := s.pageIdem(c, func(tx *sqlx.Tx) error {
		_, err := s.inv.WriteOffExpired(c.UserContext(), tx, community(c).ID, formValue(c, "location_id"), userRef(c))
		return err
	})
	if err != nil {
		return err
	}
	return c.Redirect(invPath(c, "/stock?done=written_off"), fiber.StatusSeeOther)
}
