package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
	"shelin/internal/apperr"
)

// route is one entry of the route table. Allow lists the roles that may call
// it; a nil Allow means public (no sign-in). platform_admin may call every
// signed-in route. Paths with :cid are scoped to one community: a user of
// another community gets 404, as if it did not exist.
type route struct {
	Method  string
	Path    string
	Allow   []identity.Role
	Summary string
	Handler fiber.Handler
	Page    bool // an HTML page or asset, not part of the JSON API
}

var (
	public      []identity.Role
	anyone      = []identity.Role{identity.Admin, identity.Treasurer, identity.Volunteer, identity.Leader}
	admins      = []identity.Role{identity.Admin}
	platform    = []identity.Role{identity.PlatformAdmin}
	managers    = []identity.Role{identity.Admin, identity.Treasurer}
	stallStaff  = []identity.Role{identity.Admin, identity.Volunteer}
	fundReaders = []identity.Role{identity.Admin, identity.Treasurer, identity.Leader}
	leaders     = []identity.Role{identity.Admin, identity.Leader}
)

// routes is the whole HTTP surface. Keep each area's routes in its block.
func (s *Server) routes() []route {
	return []route{
		// --- service ---
		{"GET", "/healthz", public, "Liveness", s.healthz, false},
		{"GET", "/readyz", public, "Readiness: database reachable and schema current", s.readyz, false},
		{"GET", "/metrics", public, "Prometheus metrics", s.metrics, false},
		{"GET", "/api/v1/openapi.json", public, "This API as OpenAPI 3", s.openapi, false},

		// --- identity ---
		{"POST", "/api/v1/sessions", public, "Sign in with login and password", s.createSession, false},
		{"DELETE", "/api/v1/sessions/current", anyone, "Sign out", s.deleteSession, false},
		{"GET", "/api/v1/me", anyone, "The signed-in user", s.getMe, false},
		{"POST", "/api/v1/communities", platform, "Create a community", s.createCommunity, false},
		{"GET", "/api/v1/communities", platform, "List communities", s.listCommunities, false},
		{"GET", "/api/v1/communities/:cid", anyone, "One community", s.getCommunity, false},
		{"POST", "/api/v1/communities/:cid/users", admins, "Create a user", s.createUser, false},
		{"GET", "/api/v1/communities/:cid/users", admins, "List users", s.listUsers, false},
		{"POST", "/api/v1/communities/:cid/grids", admins, "Create a grid", s.createGrid, false},
		{"GET", "/api/v1/communities/:cid/grids", anyone, "List grids", s.listGrids, false},
		{"POST", "/api/v1/communities/:cid/micro-grids", admins, "Create a micro-grid with its 邻长", s.createMicroGrid, false},
		{"GET", "/api/v1/communities/:cid/micro-grids", anyone, "List micro-grids", s.listMicroGrids, false},

		// --- pages: shell ---
		{"GET", "/", public, "Home page for the signed-in role", s.pageHome, true},
		{"GET", "/login", public, "Sign-in page", s.pageLogin, true},
		{"POST", "/login", public, "Sign in from the page", s.pageLoginSubmit, true},
		{"POST", "/logout", anyone, "Sign out from the page", s.pageLogout, true},
		{"GET", "/lang/:lang", public, "Switch the language (zh or en)", s.pageLang, true},
		{"GET", "/static/:hash/*", public, "Embedded static files at content-hashed URLs", s.static, true},

		// --- inventory ---

		// --- fund ---

		// --- orders / pos ---

		// --- groupbuy ---
	}
}

// mount registers every route with its access rule.
func (s *Server) mount(app *fiber.App) {
	for _, r := range s.routes() {
		app.Add(r.Method, r.Path, s.guard(r), r.Handler)
	}
	app.Use(func(c *fiber.Ctx) error { return apperr.NotFoundf("no such page") })
}

// guard enforces a route's Allow list and community scope.
func (s *Server) guard(r route) fiber.Handler {
	scoped := strings.Contains(r.Path, ":cid")
	return func(c *fiber.Ctx) error {
		if r.Allow == nil {
			return c.Next()
		}
		sess, ok := session(c)
		if !ok {
			if r.Page {
				return c.Redirect("/login")
			}
			return apperr.New(apperr.Unauthorized, "sign in first")
		}
		u := sess.User
		if scoped {
			cid := c.Params("cid")
			if !u.CanSee(cid) {
				return apperr.NotFoundf("community not found")
			}
			com, err := s.ids.Community(c.UserContext(), cid)
			if err != nil {
				return err
			}
			c.Locals("community", com)
		}
		if u.Role == identity.PlatformAdmin || hasRole(r.Allow, u.Role) {
			if err := c.Next(); err != nil {
				return err
			}
			s.auditWrite(c, r)
			return nil
		}
		return apperr.New(apperr.Forbidden, "your role (%s) may not do this", u.Role)
	}
}

func hasRole(rs []identity.Role, r identity.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// community returns the community of a :cid route (set by guard).
func community(c *fiber.Ctx) identity.Community {
	com, _ := c.Locals("community").(identity.Community)
	return com
}
