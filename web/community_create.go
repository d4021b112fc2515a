package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
)

// createCommunity adds a community (platform admin).
func (s *Server) createCommunity(c *fiber.Ctx) error {
	var in identity.NewCommunity
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var com identity.Community
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		com, err = s.ids.CreateCommunity(c.UserContext(), tx, in)
		if err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: currentUser(c).ID,
			Action: "create", Entity: "community", EntityID: com.ID, After: com})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(com)
}
