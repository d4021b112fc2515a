package web

import (
	"github.com/gofiber/fiber/v2"
)

// getDevice is GET /api/v1/pos/device: what a paired tablet needs before
// anyone signs in: its stall, community and the people who can sign in.
func (s *Server) getDevice(c *fiber.Ctx) error {
	dev, err := s.device(c)
	if err != nil {
		return err
	}
	st, err := s.pos.svc.Stall(c.UserContext(), s.db, dev.CommunityID, dev.LocationID)
	if err != nil {
		return err
	}
	com, err := s.ids.Community(c.UserContext(), dev.CommunityID)
	if err != nil {
		return err
	}
	vols, err := s.pos.svc.Volunteers(c.UserContext(), s.db, dev.CommunityID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"device": dev, "stall": st, "community": fiber.Map{"id": com.ID, "name": com.Name, "slug": com.Slug},
		"volunteers": vols})
}
