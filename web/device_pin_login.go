package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// pinLogin is POST /api/v1/pos/pin-login {"user_id","pin"} on a paired
// tablet: a volunteer signs in with their 4–6 digit PIN (throttled per
// tablet and per person, with backoff). The session is a PIN session: stall
// work only, whatever the person's role ("session_kind":"pin").
func (s *Server) pinLogin(c *fiber.Ctx) error {
	var req struct {
		UserID string `json:"user_id"`
		PIN    string `json:"pin"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	dev, err := s.device(c)
	if err != nil {
		return err
	}
	sess, err := s.pos.svc.PINLogin(c.UserContext(), dev, req.UserID, req.PIN)
	if err != nil {
		return s.signInError(c, err)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"token": sess.Token, "csrf_token": sess.CSRFToken,
		"user": toSessionUser(sess.User), "expires_at": sess.ExpiresAt, "location_id": dev.LocationID, "session_kind": sess.Kind})
}
