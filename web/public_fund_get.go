package web

import (
	"github.com/gofiber/fiber/v2"
)

// getPublicFund is the transparency data of a community, public: headline
// figures, fund, earmarks, money in by source and out by project, projects
// and recent entries, without personal data.
func (s *Server) getPublicFund(c *fiber.Ctx) error {
	com, err := s.ids.CommunityBySlug(c.UserContext(), param(c, "slug"))
	if err != nil {
		return err
	}
	t, err := s.fundLedger().PublicTransparency(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(fiber.Map{"community": fiber.Map{"name": com.Name, "slug": com.Slug}, "headline": t.Headline,
		"fund": toFundJSON(t.Summary), "in_by_source": t.InBySource, "out_by_project": t.OutByProject,
		"projects": t.Projects, "recent": t.Recent, "months": t.Months})
}
