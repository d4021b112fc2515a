package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

// peopleView is what templates/people.html shows.
type peopleView struct {
	Community identity.Community
	Users     []identity.User
	Roles     []identity.Role
	Form      identity.NewUser
	Error     string
	Saved     string
}

// pagePeople lists the community's people and offers a form for a new one
// (a volunteer with a PIN for the tablet, a treasurer, a 邻长 …).
func (s *Server) pagePeople(c *fiber.Ctx) error {
	return s.renderPeople(c, identity.NewUser{Role: identity.Volunteer}, "")
}

func (s *Server) renderPeople(c *fiber.Ctx, form identity.NewUser, msg string) error {
	com := community(c)
	us, err := s.ids.Users(c.UserContext(), com.ID)
	if err != nil {
		return err
	}
	form.Password, form.PIN = "", ""
	return s.render(c, "people", "people.title", peopleView{Community: com, Users: us, Form: form, Error: msg, Saved: c.Query("saved"),
		Roles: []identity.Role{identity.Volunteer, identity.Leader, identity.Treasurer, identity.Admin}})
}
