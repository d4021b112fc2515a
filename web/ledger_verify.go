package web

import "github.com/gofiber/fiber/v2"

// verifyLedger proves the ledger sound: entries balance, balances equal the
// sums of postings, lots are conserved.
func (s *Server) verifyLedger(c *fiber.Ctx) error {
	v, err := s.fundLedger().Verify(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
