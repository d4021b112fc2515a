package web

import "github.com/gofiber/fiber/v2"

// posImage is GET {c}/pos/images/{hash}: a product picture for the tablet's
// tiles, immutable by content hash.
func (s *Server) posImage(c *fiber.Ctx) error {
	img, err := s.pos.svc.Inventory.ImageByHash(c.UserContext(), s.db, c.Params("hash"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	return c.Send(img.Data)
}
