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

// pagePlatformSubmit creates a community and its first admin in one
// transaction: both or neither.
func (s *Server) pagePlatformSubmit(c *fiber.Ctx) error {
	form := platformForm{
		Name: strings.TrimSpace(c.FormValue("name")), Slug: strings.TrimSpace(c.FormValue("slug")),
		Timezone: strings.TrimSpace(c.FormValue("timezone")), AdminLogin: strings.TrimSpace(c.FormValue("admin_login")),
	}
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		com, err := s.ids.CreateCommunity(c.UserContext(), tx, identity.NewCommunity{Name: form.Name, Slug: form.Slug, Timezone: form.Timezone})
		if err != nil {
			return err
		}
		u, err := s.ids.CreateUser(c.UserContext(), tx, com.ID, identity.NewUser{Login: form.AdminLogin, Password: c.FormValue("admin_password"), Role: identity.Admin})
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Field != "" {
				return e.WithField("admin_" + e.Field)
			}
			return err
		}
		me := currentUser(c).ID
		if err := identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: me, Action: "create", Entity: "community", EntityID: com.ID, After: com}); err != nil {
			return err
		}
		return identity.Audit(c.UserContext(), tx, identity.AuditEntry{CommunityID: com.ID, UserID: me, Action: "create", Entity: "user", EntityID: u.ID, After: u})
	})
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderPlatform(c, form, s.ui.messageOr(lang(c), "platform.error."+e.Field, e.Message))
	}
	if err != nil {
		return err
	}
	return c.Redirect("/platform?saved="+url.QueryEscape(form.Slug), fiber.StatusSeeOther)
}
