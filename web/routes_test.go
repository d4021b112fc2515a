package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"shelin/identity"
)

type openAPI struct {
	Paths map[string]map[string]struct {
		Roles    []string `json:"x-roles"`
		Security *[]any   `json:"security"`
	} `json:"paths"`
}

func (e *env) openAPI() openAPI {
	e.t.Helper()
	st, raw := e.raw("GET", "/api/v1/openapi.json", "", nil)
	if st != 200 {
		e.t.Fatalf("openapi.json: %d", st)
	}
	var doc openAPI
	if err := json.Unmarshal(raw, &doc); err != nil {
		e.t.Fatal(err)
	}
	return doc
}

var param = regexp.MustCompile(`\{([a-z_]+)\}`)

// fill puts the env's community id for {cid} and a well-formed unknown id
// for every other parameter.
func fill(path, cid string) string {
	return param.ReplaceAllStringFunc(path, func(p string) string {
		if p == "{cid}" {
			return cid
		}
		return "00000000-0000-4000-8000-000000000000"
	})
}

// Every route of the API declares its roles, and the guard enforces them:
// anonymous → 401, a role not listed → 403, and any user of another
// community → 404, whatever its role.
func TestEveryRouteEnforcesRolesAndTenancy(t *testing.T) {
	e := newEnv(t)
	_, other := e.newCommunity()
	otherTokens := map[identity.Role]string{}
	for _, r := range []identity.Role{identity.Admin, identity.Treasurer, identity.Volunteer, identity.Leader} {
		otherTokens[r] = e.login(other[r].Login, testPassword)
	}
	doc := e.openAPI()
	checked := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public
			}
			if len(op.Roles) == 0 {
				t.Errorf("%s %s declares no roles", method, path)
				continue
			}
			url := fill(path, e.Com.ID)
			if st, _ := e.call(method, url, "", nil); st != http.StatusUnauthorized {
				t.Errorf("%s %s anonymous: %d, want 401", method, path, st)
			}
			for _, r := range []identity.Role{identity.Admin, identity.Treasurer, identity.Volunteer, identity.Leader} {
				if !slices.Contains(op.Roles, string(r)) {
					if st, _ := e.call(method, url, e.Tokens[r], nil); st != http.StatusForbidden {
						t.Errorf("%s %s as %s: %d, want 403", method, path, r, st)
					}
				}
				if strings.Contains(path, "{cid}") {
					if st, _ := e.call(method, url, otherTokens[r], nil); st != http.StatusNotFound {
						t.Errorf("%s %s as %s of another community: %d, want 404", method, path, r, st)
					}
				}
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d routes checked", checked)
	}
}

// The OpenAPI document names the stable core of API.md, and every path it
// names is served (no 404 from the router).
func TestOpenAPINamesTheCoreAndOnlyRealRoutes(t *testing.T) {
	e := newEnv(t)
	doc := e.openAPI()
	core := []string{
		"POST /api/v1/sessions", "DELETE /api/v1/sessions/current",
		"POST /api/v1/communities", "POST /api/v1/communities/{cid}/users", "GET /api/v1/communities/{cid}/users",
		"GET /api/v1/openapi.json",
	}
	core = append(core, coreAPI...)
	for _, c := range core {
		m, p, _ := strings.Cut(c, " ")
		if _, ok := doc.Paths[p][strings.ToLower(m)]; !ok {
			t.Errorf("openapi.json lacks %s", c)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			st, body := e.call(strings.ToUpper(method), fill(path, e.Com.ID), e.Tokens["platform_admin"], nil)
			if st == 404 && errorOf(body)["message"] == "no such page" {
				t.Errorf("%s %s is in openapi.json but not served", method, path)
			}
		}
	}
}
