package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

type sessionUser struct {
	ID          string        `json:"id"`
	Login       string        `json:"login"`
	Role        identity.Role `json:"role"`
	CommunityID *string       `json:"community_id"`
	DisplayName string        `json:"display_name"`
}

func toSessionUser(u identity.User) sessionUser {
	return sessionUser{ID: u.ID, Login: u.Login, Role: u.Role, CommunityID: u.CommunityID, DisplayName: u.DisplayName}
}

// createSession signs in with login and password: 201 {"token","user"}.
func (s *Server) createSession(c *fiber.Ctx) error {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	sess, err := s.ids.SignIn(c.UserContext(), strings.TrimSpace(in.Login), in.Password, s.clientIP(c))
	if err != nil {
		return s.signInError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": sess.Token, "user": toSessionUser(sess.User), "expires_at": sess.ExpiresAt})
}
