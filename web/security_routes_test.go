package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"shelin/identity"
)

// publicRoutes are the routes that answer without a sign-in, on purpose. A
// route added to routes() with a nil Allow and not named here fails
// TestSecurityRouteTable: being public is a decision, not a default.
var publicRoutes = []string{
	"GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json",
	"POST /api/v1/sessions",
	"GET /", "GET /login", "POST /login", "GET /lang/:lang", "GET /static/:hash/*",
	"GET /img/:hash",
	"GET /api/v1/public/:slug/fund", "GET /c/:slug", "GET /t/:token",
	"POST /api/v1/pos/pair", "GET /api/v1/pos/device", "POST /api/v1/pos/pin-login",
	"POST /api/v1/webhooks/sandbox", "POST /api/v1/webhooks/wechatpay", "POST /api/v1/webhooks/alipay", "GET /api/v1/receipts/:token", "GET /r/:token",
	"GET /pay/:token", "POST /pay/:token", "GET /pos",
	// group-buys: the neighbour's join link (an unguessable token) and
	// their own join (a second token)
	"GET /api/v1/groupbuys/:token", "POST /api/v1/groupbuys/:token/joins", "GET /api/v1/groupbuys/:token/joins/:jtoken",
	"GET /g/:token", "POST /g/:token", "GET /g/:token/poster", "GET /g/:token/qr.svg", "GET /g/:token/j/:jtoken",
	"GET /g/:token/j/:jtoken/pickup.svg", "GET /g/:token/j/:jtoken/pay.svg",
}

var communityRoles = []identity.Role{identity.Admin, identity.Treasurer, identity.Volunteer, identity.Leader}

var routeParam = regexp.MustCompile(`:[a-z]+|\*`)

// fillRoute puts the community id for :cid and a well-formed unknown value
// for every other parameter.
func fillRoute(path, cid string) string {
	return routeParam.ReplaceAllStringFunc(path, func(p string) string {
		if p == ":cid" {
			return cid
		}
		return "00000000-0000-4000-8000-000000000000"
	})
}

// request sends one request with a bearer token or a session cookie and
// returns the status, the Location header and the body.
func (e *env) request(method, path, token string, cookie *http.Cookie, headers ...string) (int, string, string) {
	e.t.Helper()
	var body io.Reader
	if method != "GET" && method != "HEAD" {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// cookieSession signs in through the login form: the session cookie.
func (e *env) cookieSession(login string) *http.Cookie {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(e.URL+"/login", url.Values{"login": {login}, "password": {testPassword}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "shelin_session" {
			return c
		}
	}
	e.t.Fatalf("sign in %s from the form: %d, no session cookie", login, res.StatusCode)
	return nil
}

// The security suite generated from the route table (routes(), the list
// mount registers): every route, every role and none, own and another
// community, a PIN session and a cookie session without its CSRF token. A
// route added to the table is covered without a test of its own; a public
// one must also be named in publicRoutes.
func TestSecurityRouteTable(t *testing.T) {
	e := newEnv(t)
	rules := e.Srv.RouteRules()
	if len(rules) < 100 {
		t.Fatalf("the route table has %d routes; expected the whole surface", len(rules))
	}
	_, other := e.newCommunity()
	otherTokens := map[identity.Role]string{}
	for _, r := range communityRoles {
		otherTokens[r] = e.login(other[r].Login, testPassword)
	}
	// The community admin's tablet PIN: a PIN session, whatever the role.
	cred := e.pairTablet()
	st, pin := e.pinLogin(cred, e.Users[identity.Admin].ID, "2468")
	if st != 201 || pin["session_kind"] != "pin" {
		t.Fatalf("admin PIN sign-in: %d %v", st, pin)
	}
	pinToken := pin["token"].(string)
	// A cookie session of the platform admin (allowed everywhere): a write
	// without its CSRF token can be refused for that reason only.
	cookie := e.cookieSession(e.Users[identity.PlatformAdmin].Login)

	seen := map[string]bool{}
	checks := 0
	for _, r := range rules {
		name := r.Method + " " + r.Path
		if seen[name] {
			t.Errorf("%s is in the route table twice", name)
		}
		seen[name] = true
		path := fillRoute(r.Path, e.Com.ID)
		if r.Allow == nil {
			if !slices.Contains(publicRoutes, name) {
				t.Errorf("%s is public (no Allow) but not declared in publicRoutes", name)
			}
			continue
		}
		if len(r.Allow) == 0 {
			t.Errorf("%s allows no role at all", name)
		}
		// No sign-in: 401 for the API, the sign-in page for a page.
		st, loc, body := e.request(r.Method, path, "", nil)
		switch {
		case r.Page && (st != http.StatusFound && st != http.StatusSeeOther || loc != "/login"):
			t.Errorf("%s without sign-in: %d → %q, want a redirect to /login", name, st, loc)
		case !r.Page && st != http.StatusUnauthorized:
			t.Errorf("%s without sign-in: %d %s, want 401", name, st, body)
		}
		checks++
		scoped := strings.Contains(r.Path, ":cid")
		for _, role := range communityRoles {
			// A role outside Allow: 403.
			if !slices.Contains(r.Allow, role) {
				if st, _, body := e.request(r.Method, path, e.Tokens[role], nil); st != http.StatusForbidden {
					t.Errorf("%s as %s: %d %s, want 403", name, role, st, body)
				}
				checks++
			}
			// Anyone of another community: 404, as if it did not exist.
			if scoped {
				if st, _, body := e.request(r.Method, path, otherTokens[role], nil); st != http.StatusNotFound {
					t.Errorf("%s as %s of another community: %d %s, want 404", name, role, st, body)
				}
				checks++
			}
		}
		// Everyone allowed gets past the guard (whatever the handler then
		// says of the empty input and unknown ids): no 401 or 403. Signing
		// out is left out, as it would end the session.
		if r.Path != "/logout" && r.Path != "/api/v1/sessions/current" {
			allowed := map[string]string{"platform_admin": e.Tokens[identity.PlatformAdmin]}
			for _, role := range r.Allow {
				allowed[string(role)] = e.Tokens[role]
			}
			if r.PIN {
				allowed["admin's PIN session"] = pinToken
			}
			for who, tok := range allowed {
				if st, _, body := e.request(r.Method, path, tok, nil, "Idempotency-Key", randomSlug()); st == http.StatusUnauthorized || st == http.StatusForbidden {
					t.Errorf("%s as %s (allowed): %d %s", name, who, st, body)
				}
				checks++
			}
		}
		// An admin's PIN session: 403 wherever the stall role is not allowed.
		if !r.PIN {
			st, _, body := e.request(r.Method, path, pinToken, nil)
			if st != http.StatusForbidden || !strings.Contains(body, "password") && !strings.Contains(body, "密码") {
				t.Errorf("%s with an admin's PIN session: %d %s, want 403 asking for a password", name, st, body)
			}
			checks++
		}
		// A cookie session's write without the CSRF token: refused before
		// the handler.
		if r.Method != "GET" && r.Method != "HEAD" {
			st, _, body := e.request(r.Method, path, "", cookie)
			if st != http.StatusForbidden || !strings.Contains(body, "reload the page") {
				t.Errorf("%s from a cookie session without the CSRF token: %d %s, want 403", name, st, body)
			}
			st, _, body = e.request(r.Method, path, "", cookie, "X-CSRF-Token", "forged")
			if st != http.StatusForbidden || !strings.Contains(body, "reload the page") {
				t.Errorf("%s from a cookie session with a forged CSRF token: %d %s, want 403", name, st, body)
			}
			checks += 2
		}
	}
	for _, p := range publicRoutes {
		if !seen[p] {
			t.Errorf("publicRoutes names %s, which is not in the route table", p)
		}
	}
	t.Logf("%d routes, %d requests checked", len(rules), checks)
}

// The PIN rule is the route table's: a PIN session may use exactly the
// routes open to the stall role, which include selling, shifts, refunds and
// stall stock, and none of the admin's or treasurer's own.
func TestSecurityPINRoutesAreStallWork(t *testing.T) {
	e := newEnv(t)
	pinRoutes := map[string]bool{}
	for _, r := range e.Srv.RouteRules() {
		if r.PIN != (r.Allow != nil && slices.Contains(r.Allow, identity.PINRole)) {
			t.Errorf("%s %s: PIN %v disagrees with its Allow %v", r.Method, r.Path, r.PIN, r.Allow)
		}
		if r.PIN {
			pinRoutes[r.Method+" "+r.Path] = true
		}
	}
	for _, want := range []string{
		"POST /api/v1/communities/:cid/sales", "POST /api/v1/communities/:cid/shifts",
		"POST /api/v1/communities/:cid/shifts/:id/close", "POST /api/v1/communities/:cid/sales/:id/refunds",
		"POST /api/v1/communities/:cid/stock/counts", "GET /api/v1/communities/:cid/pos/catalog",
	} {
		if !pinRoutes[want] {
			t.Errorf("a PIN session cannot %s", want)
		}
	}
	for _, never := range []string{
		"POST /api/v1/communities/:cid/users", "PUT /api/v1/communities/:cid/fund/rules",
		"POST /api/v1/communities/:cid/projects/:id/approve", "POST /api/v1/communities/:cid/projects/:id/disbursements",
		"PUT /api/v1/communities/:cid/payment-settings/static", "POST /api/v1/communities/:cid/devices",
		"POST /api/v1/communities", "POST /admin/:cid/people",
	} {
		if pinRoutes[never] {
			t.Errorf("a PIN session can %s", never)
		}
	}
}

// An admin's PIN session is stall work: it sells and reads, it is refused
// an admin's work with a message in the visitor's language, and a refund
// from it needs a second person like a volunteer's.
func TestSecurityAdminPINSessionIsNotAnAdminSession(t *testing.T) {
	e := newEnv(t)
	cred := e.pairTablet()
	st, pin := e.pinLogin(cred, e.Users[identity.Admin].ID, "2468")
	if st != 201 {
		t.Fatalf("admin PIN sign-in: %d %v", st, pin)
	}
	tok := pin["token"].(string)
	if st, body := e.call("GET", e.c()+"/products", tok, nil); st != 200 {
		t.Fatalf("catalogue from a PIN session: %d %v", st, body)
	}
	st, body := e.call("POST", e.c()+"/users", tok, map[string]string{"login": "sneaky-" + e.Com.Slug, "password": "long enough", "role": "admin"})
	if st != 403 || errorOf(body)["message"] != "此操作需要用密码登录：平板 PIN 登录只能做摊位上的事（收银、开班交班、经第二人确认的退款、摊位库存）。" {
		t.Fatalf("create an admin from a PIN session: %d %v, want 403 in Chinese", st, body)
	}
	st, body = e.call("PUT", e.c()+"/fund/rules", tok, map[string]any{"earmarks": []map[string]any{{"name": "general", "percent": 100}}}, "Cookie", "lang=en")
	if st != 403 || !strings.Contains(errorOf(body)["message"].(string), "password") {
		t.Fatalf("fund rules from a PIN session: %d %v, want 403 in English", st, body)
	}
	var n int
	if err := e.DB.Get(&n, `SELECT count(*) FROM users WHERE login = $1`, "sneaky-"+e.Com.Slug); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("a PIN session created a user")
	}
	// A refund from the admin's PIN session is a volunteer's: without a
	// second person's PIN it is refused before anything is looked up.
	st, body = e.call("POST", e.c()+"/sales/00000000-0000-4000-8000-000000000000/refunds", tok,
		map[string]any{"lines": []map[string]any{{"product_id": "00000000-0000-4000-8000-000000000000", "qty": 1}}, "reason": "test"},
		"Idempotency-Key", "k-"+e.Com.Slug)
	if st != 422 || errorOf(body)["field"] != "approval_token" {
		t.Fatalf("refund from an admin's PIN session without a second person: %d %v, want 422 approval_token", st, body)
	}
	// The same admin with a password is still an admin.
	if st, body := e.call("GET", e.c()+"/users", e.Tokens[identity.Admin], nil); st != 200 {
		t.Fatalf("admin with a password: %d %v", st, body)
	}
}
