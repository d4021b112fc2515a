package web

import "github.com/gofiber/fiber/v2"

// verifyZChain is GET {c}/z-reports/verify: recomputes every Z-report hash
// and link; a changed past report is listed.
func (s *Server) verifyZChain(c *fiber.Ctx) error {
	n, problems, err := s.rec.VerifyChain(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": len(problems) == 0, "reports": n, "problems": problems})
}
