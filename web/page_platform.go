package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

// platformView is what templates/platform.html shows.
type platformView struct {
	Communities []identity.Community
	Form        platformForm
	Error       string
	Saved       string
}

type platformForm struct {
	Name, Slug, Timezone, AdminLogin string
}

// pagePlatform lists the communities and offers a form for a new community
// with its first admin (platform admin).
func (s *Server) pagePlatform(c *fiber.Ctx) error {
	return s.renderPlatform(c, platformForm{Timezone: "Asia/Shanghai"}, "")
}

func (s *Server) renderPlatform(c *fiber.Ctx, form platformForm, msg string) error {
	cs, err := s.ids.Communities(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, "platform", "platform.title", platformView{Communities: cs, Form: form, Error: msg, Saved: c.Query("saved")})
}
