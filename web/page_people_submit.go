package web

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// pagePeopleSubmit adds a person from the form and shows the list again.
func (s *Server) pagePeopleSubmit(c *fiber.Ctx) error {
	com := community(c)
	in := identity.NewUser{
		Login: strings.TrimSpace(c.FormValue("login")), Password: c.FormValue("password"),
		Role: identity.Role(c.FormValue("role")), DisplayName: strings.TrimSpace(c.FormValue("display_name")),
		PIN: strings.TrimSpace(c.FormValue("pin")),
	}
	if in.Role == identity.PlatformAdmin {
		in.Role = ""
	}
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		u, err := s.ids.CreateUser(c.UserContext(), tx, com.ID, in)
		if err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: currentUser(c).ID,
			Action: "create", Entity: "user", EntityID: u.ID, After: u})
	})
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderPeople(c, in, s.ui.messageOr(lang(c), "people.error."+e.Field, e.Message))
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+com.ID+"/people?saved="+url.QueryEscape(in.Login), fiber.StatusSeeOther)
}
