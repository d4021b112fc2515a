package web

import (
	"github.com/gofiber/fiber/v2"
)

// pageStockTransfer shows the form to carry goods from the centre to a stall
// (or back).
func (s *Server) pageStockTransfer(c *fiber.Ctx) error {
	return s.renderStockForm(c, "inv_transfer", "inv.transfer", "", fiber.StatusOK)
}
