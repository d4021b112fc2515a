package web

import "testing"

// Every entry of apiTypes names a route of the table (a renamed route would
// otherwise silently lose its schemas).
func TestAPITypesNameRealRoutes(t *testing.T) {
	routes := map[string]bool{}
	for _, r := range (&Server{}).routes() {
		routes[r.Method+" "+r.Path] = true
	}
	for k := range apiTypes {
		if !routes[k] {
			t.Errorf("apiTypes has %q, which is not in the route table", k)
		}
	}
}
