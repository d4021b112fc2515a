package web

import (
	"github.com/gofiber/fiber/v2"
)

// getImage serves a product picture by content hash; the URL changes when
// the picture does, so it is cached for good.
func (s *Server) getImage(c *fiber.Ctx) error {
	img, err := s.inv.ImageByHash(c.UserContext(), s.db, param(c, "hash"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(img.Data)
}
