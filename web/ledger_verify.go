package web

import "github.com/gofiber/fiber/v2"

// verifyLedger is GET {c}/ledger/verify: the whole-system verification (the
// fund's invariants, stock against movements, every sale's money and stock
// against the ledger) in one snapshot. {"ok","entries","sales","problems"}.
func (s *Server) verifyLedger(c *fiber.Ctx) error {
	r, err := s.pos.svc.Verify(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(r)
}
