package web

import "github.com/gofiber/fiber/v2"

// reopenDay is POST {c}/days/{date}/reopen {"reason"} (admin; audited): the
// day takes writes again; closing it again adds a new Z-report version.
func (s *Server) reopenDay(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.rec.Reopen(c.UserContext(), community(c).ID, date, currentUser(c).ID, req.Reason); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"date": date, "status": "open"})
}
