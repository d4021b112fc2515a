package web

import (
	"github.com/gofiber/fiber/v2"
)

// pageGroupBuyPoster is GET /g/{token}/poster: the deal, the fund share and
// the join QR code, for the WeChat group or the notice board (A4 print).
func (s *Server) pageGroupBuyPoster(c *fiber.Ctx) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	com, err := s.ids.Community(c.UserContext(), camp.CommunityID)
	if err != nil {
		return err
	}
	t := camp.Deadline.In(com.Location())
	return s.render(c, "gb_poster", "gb.title", fiber.Map{"C": camp, "Community": com.Name,
		"Deadline": formatDate(lang(c), t) + " " + t.Format("15:04"), "QR": s.gbURL(camp.Token, "qr.svg"), "JoinURL": s.gbURL(camp.Token)})
}
