package web_test

// coreAPI lists the endpoints of API.md that the server implements; each
// area appends its own. TestOpenAPINamesTheCoreAndOnlyRealRoutes checks them.
var coreAPI = []string{
	"GET /api/v1/communities/{cid}",
}
