package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/internal/apperr"
)

// traceSale follows a sale's fund money into lots and projects;
// ?kind=groupbuy|donation traces those sources instead.
func (s *Server) traceSale(c *fiber.Ctx) error {
	kind := fund.SourceSale
	switch k := c.Query("kind"); k {
	case "", fund.SourceSale:
	case fund.SourceGroupBuy, fund.SourceDonation:
		kind = k
	default:
		return apperr.Field("kind", "kind must be sale, groupbuy or donation")
	}
	t, err := s.fundLedger().TraceSource(c.UserContext(), s.db, community(c).ID, kind, param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}
