package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
)

// homeLink is one tile on a role's home page.
type homeLink struct {
	Key  string // message key of the label
	Href string // may contain {cid} and {slug}
	Hint string // message key of the one-line description
}

// homeLinks lists what each role may do, in order of importance. Areas add
// their pages here.
var homeLinks = map[identity.Role][]homeLink{
	identity.PlatformAdmin: {{"home.communities", "/platform", "home.communities.hint"}},
	identity.Admin:         {{"home.transparency", "/c/{slug}", "home.transparency.hint"}, {"fund.home.projects", "/admin/{cid}/projects", "fund.home.projects.hint"}, {"fund.home.ledger", "/admin/{cid}/fund", "fund.home.ledger.hint"}, {"inv.home.products", "/admin/{cid}/products", "inv.home.products.hint"}, {"inv.home.stock", "/admin/{cid}/stock", "inv.home.stock.hint"}, {"posadm.home", "/admin/{cid}/pos", "posadm.home.hint"}, {"paymerch.home", "/admin/{cid}/payments", "paymerch.home.hint"}, {"susp.home", "/admin/{cid}/suspense", "susp.home.hint"}, {"day.home", "/admin/{cid}/days", "day.home.hint"}, {"home.people", "/admin/{cid}/people", "home.people.hint"}},
	identity.Treasurer:     {{"day.home", "/admin/{cid}/days", "day.home.hint"}, {"fund.home.ledger", "/admin/{cid}/fund", "fund.home.ledger.hint"}, {"susp.home", "/admin/{cid}/suspense", "susp.home.hint"}, {"fund.home.projects", "/admin/{cid}/projects", "fund.home.projects.hint"}, {"home.transparency", "/c/{slug}", "home.transparency.hint"}},
	identity.Volunteer:     {{"posadm.home.tablet", "/pos", "posadm.home.tablet.hint"}, {"inv.home.stock", "/admin/{cid}/stock", "inv.home.stock.hint"}},
	identity.Leader:        {{"fund.home.projects", "/admin/{cid}/projects", "fund.home.projects.hint"}, {"home.transparency", "/c/{slug}", "home.transparency.hint"}},
}

// pageHome shows the signed-in role only what it may do.
func (s *Server) pageHome(c *fiber.Ctx) error {
	sess, ok := session(c)
	if !ok {
		return c.Redirect("/login")
	}
	u := sess.User
	var com identity.Community
	if cid := u.Community(); cid != "" {
		var err error
		if com, err = s.ids.Community(c.UserContext(), cid); err != nil {
			return err
		}
	}
	links := []homeLink{}
	for _, l := range homeLinks[u.Role] {
		l.Href = expandLink(l.Href, com)
		links = append(links, l)
	}
	return s.render(c, "home", "home.title", fiber.Map{"Community": com, "Links": links})
}

func expandLink(href string, com identity.Community) string {
	return strings.NewReplacer("{cid}", com.ID, "{slug}", com.Slug).Replace(href)
}
