package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// pageTablet is GET /pos: the stall tablet's one-page app (pairing, PIN
// pad, selling, QR, receipts, refunds, shifts). It talks to the JSON API.
func (s *Server) pageTablet(c *fiber.Ctx) error {
	l := lang(c)
	msgs := map[string]string{}
	for k := range s.ui.msgs[langZH] {
		if strings.HasPrefix(k, "pos.") {
			msgs[strings.TrimPrefix(k, "pos.")] = s.ui.t(l, k)
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, "pos", "pos.title", fiber.Map{"Msgs": msgs, "Code": c.Query("code"), "Sandbox": s.pos.sandbox != nil})
}
