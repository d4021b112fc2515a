package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// createUser adds a user to the community (admin).
func (s *Server) createUser(c *fiber.Ctx) error {
	var in identity.NewUser
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Role == identity.PlatformAdmin {
		return apperr.Field("role", "role must be one of admin, treasurer, volunteer, leader")
	}
	com := community(c)
	var u identity.User
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		u, err = s.ids.CreateUser(c.UserContext(), tx, com.ID, in)
		if err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: currentUser(c).ID,
			Action: "create", Entity: "user", EntityID: u.ID, After: u})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}
