package web

import "shelin/identity"

// RouteRule is one route of the table as the security suite sees it.
type RouteRule struct {
	Method string
	Path   string
	Allow  []identity.Role // nil: public
	Page   bool
	// PIN: a PIN session (a tablet sign-in) may use the route.
	PIN bool
}

// RouteRules returns the route table routes() that mount registers, for
// the generated security suite (security_routes_test.go): a route added to
// routes() is checked without anyone writing a test for it.
func (s *Server) RouteRules() []RouteRule {
	var out []RouteRule
	for _, r := range s.routes() {
		out = append(out, RouteRule{Method: r.Method, Path: r.Path, Allow: r.Allow, Page: r.Page, PIN: r.Allow != nil && pinAllowed(r)})
	}
	return out
}
