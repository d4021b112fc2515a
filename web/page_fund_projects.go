package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
)

// projectsPageView is what templates/fund_projects.html shows.
type projectsPageView struct {
	Community  identity.Community
	Projects   []fund.Project
	MicroGrids []identity.MicroGrid
	Purposes   []string
	CanPropose bool
	Error      string
	Form       map[string]string
}

// pageFundProjects lists the projects and offers a 邻长 or the admin the
// proposal form.
func (s *Server) pageFundProjects(c *fiber.Ctx) error {
	return s.renderFundProjects(c, "", nil)
}

func (s *Server) renderFundProjects(c *fiber.Ctx, msg string, form map[string]string) error {
	com := community(c)
	ps, err := s.fundLedger().ListProjects(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	mgs, err := s.ids.MicroGrids(c.UserContext(), com.ID)
	if err != nil {
		return err
	}
	rules, err := s.fundLedger().CurrentRules(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	u := currentUser(c)
	v := projectsPageView{Community: com, Projects: ps, MicroGrids: mgs, Error: msg, Form: form,
		CanPropose: u.Role == identity.Admin || u.Role == identity.Leader || u.Role == identity.PlatformAdmin}
	for _, e := range rules.Earmarks {
		if e.Name != fund.General {
			v.Purposes = append(v.Purposes, e.Name)
		}
	}
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	return s.render(c, "fund_projects", "fund.projects", v)
}
