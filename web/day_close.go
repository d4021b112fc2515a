package web

import "github.com/gofiber/fiber/v2"

// closeDay is POST {c}/days/{date}/close: only when the day's shifts are
// closed and its issues resolved or acknowledged; afterwards writes dated
// that day answer 409 day_closed. Closing a closed day returns its report.
func (s *Server) closeDay(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	z, err := s.rec.Close(c.UserContext(), community(c).ID, date, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"date": date, "status": "closed", "z_report": fiber.Map{"version": z.Version, "hash": z.Hash, "prev_hash": z.PrevHash,
		"url": "/api/v1/communities/" + community(c).ID + "/days/" + date + "/z-report"}})
}
