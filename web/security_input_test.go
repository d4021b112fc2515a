package web_test

import (
	"strings"
	"testing"

	"shelin/identity"
)

// knownServerErrors are requests of the generated bad-input run that still
// answer 5xx, each with the owner's issue; the test fails when one of them
// stops doing so, to have it removed from here.
var knownServerErrors = map[string]string{}

// Malformed and oversized input on every route of the table, generated:
// no answer is a 5xx (the platform admin may call every route, so the
// input reaches each handler).
func TestSecurityBadInputNeverAnswers5xx(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("界", 400000)
	bodies := []string{
		`{not json`, `[]`, `"x"`, `{"id":"\u0000","name":"a\u0000b"}`,
		`{"name":"` + big + `","title":"` + big + `","login":"` + big + `","display_name":"` + big + `","reason":"` + big + `","memo":"` + big + `"}`,
		`{"location_id":"x","product_id":"x","user_id":"x","grid_id":"x","amount":"99999999999999999999","price":"1e400","budget":"-0.001","qty":99999999999,"lines":[{"product_id":"x","qty":-1}]}`,
	}
	queries := []string{
		"?location_id=x&product_id=x&from=x&to=x&limit=x&cursor=x&date=x&kind=x",
		"?location_id=%00&limit=-1&cursor=%00&from=99999-01-01",
		"?limit=100000000000000000000&location_id=" + strings.Repeat("x", 3000),
	}
	token := e.Tokens[identity.PlatformAdmin]
	failed := map[string]bool{}
	for _, r := range e.Srv.RouteRules() {
		if r.Path == "/logout" || r.Path == "/api/v1/sessions/current" || strings.HasSuffix(r.Path, "/events") {
			continue // ends the session, or streams until the client leaves
		}
		name := r.Method + " " + r.Path
		path := fillRoute(r.Path, e.Com.ID)
		if r.Method == "GET" {
			for _, q := range queries {
				if st, body := e.raw("GET", path+q, token, nil); st >= 500 {
					failed[name] = true
					if knownServerErrors[name] == "" {
						t.Errorf("GET %s%s: %d %s", path, q, st, body)
					}
				}
			}
			continue
		}
		for _, b := range bodies {
			if st, body := e.raw(r.Method, path, token, b, "Idempotency-Key", randomSlug()); st >= 500 {
				failed[name] = true
				if knownServerErrors[name] == "" {
					t.Errorf("%s %.200s: %d %s", name, b, st, body)
				}
			}
		}
	}
	for name, why := range knownServerErrors {
		if !failed[name] {
			t.Errorf("%s no longer answers 5xx to bad input (%s): remove it from knownServerErrors", name, why)
		}
	}
}
