package web_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestSignInWithWrongPasswordIs401WithJSONError(t *testing.T) {
	e := newEnv(t)
	st, body := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": e.Users["admin"].Login, "password": "wrong password"})
	if st != 401 || errorOf(body)["code"] != "unauthorized" || errorOf(body)["message"] == "" {
		t.Fatalf("got %d %v", st, body)
	}
}

func TestEleventhFailedSignInInARowIs429(t *testing.T) {
	e := newEnv(t)
	login := e.Users["treasurer"].Login
	for i := 1; i <= 10; i++ {
		st, _ := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": login, "password": fmt.Sprintf("bad-%d", i)})
		if st != 401 {
			t.Fatalf("failure %d: status %d, want 401", i, st)
		}
	}
	st, body := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": login, "password": testPassword})
	if st != 429 || errorOf(body)["code"] != "rate_limited" {
		t.Fatalf("11th attempt (even with the right password): %d %v, want 429", st, body)
	}
}

// Junk sign-ins from one address make it back off for logins that never
// signed in there, not for people who did.
func TestEleventhFailedSignInFromOneAddressIs429(t *testing.T) {
	e := newEnv(t)
	_, fresh := e.newCommunity() // people who never signed in from 127.0.0.1
	var before int
	if err := e.DB.Get(&before, `SELECT coalesce((SELECT failures FROM auth_throttles WHERE key='pw:ip:127.0.0.1'), 0)`); err != nil {
		t.Fatal(err)
	}
	e.Srv.Identity().MaxFailuresPerIP = before + 10
	defer func() { e.Srv.Identity().MaxFailuresPerIP = 1 << 30 }()
	for i := 1; i <= 10; i++ {
		st, _ := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": fmt.Sprintf("nobody%d-%s", i, e.Com.Slug), "password": "x"})
		if st != 401 {
			t.Fatalf("failure %d: status %d, want 401", i, st)
		}
	}
	st, _ := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": fresh["leader"].Login, "password": testPassword})
	if st != 429 {
		t.Fatalf("11th attempt from the same address: %d, want 429", st)
	}
	if st, body := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": e.Users["leader"].Login, "password": testPassword}); st != 201 {
		t.Fatalf("someone who signed in from this address before: %d %v, want 201", st, body)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	tok := e.login(e.Users["volunteer"].Login, testPassword)
	if st, _ := e.call("GET", "/api/v1/me", tok, nil); st != 200 {
		t.Fatalf("me: %d", st)
	}
	if st, _ := e.call("DELETE", "/api/v1/sessions/current", tok, nil); st != 204 {
		t.Fatalf("sign out: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/me", tok, nil); st != 401 {
		t.Fatalf("me after sign out: %d, want 401", st)
	}
}

func TestPlatformAdminCreatesCommunityAndItsAdminCreatesUsers(t *testing.T) {
	e := newEnv(t)
	slug := randomSlug()
	st, com := e.call("POST", "/api/v1/communities", e.Tokens["platform_admin"], map[string]string{"name": "涧西新社区", "slug": slug})
	if st != 201 || com["slug"] != slug || com["id"] == "" || com["name"] != "涧西新社区" {
		t.Fatalf("create community: %d %v", st, com)
	}
	cid := com["id"].(string)
	st, u := e.call("POST", "/api/v1/communities/"+cid+"/users", e.Tokens["platform_admin"],
		map[string]string{"login": "admin-" + slug, "password": "long enough", "role": "admin"})
	if st != 201 || u["role"] != "admin" || u["login"] != "admin-"+slug {
		t.Fatalf("create user: %d %v", st, u)
	}
	tok := e.login("admin-"+slug, "long enough")
	st, u = e.call("POST", "/api/v1/communities/"+cid+"/users", tok,
		map[string]string{"login": "vol-" + slug, "password": "long enough", "role": "volunteer", "pin": "1234"})
	if st != 201 {
		t.Fatalf("admin creates volunteer: %d %v", st, u)
	}
	st, list := e.call("GET", "/api/v1/communities/"+cid+"/users", tok, nil)
	if st != 200 || len(list["items"].([]any)) != 2 {
		t.Fatalf("list users: %d %v", st, list)
	}
	// The new community's admin cannot see the first community: 404.
	if st, body := e.call("GET", e.c()+"/users", tok, nil); st != 404 {
		t.Fatalf("other community: %d %v, want 404", st, body)
	}
	// A duplicate slug is a conflict; a bad one names its field.
	if st, _ := e.call("POST", "/api/v1/communities", e.Tokens["platform_admin"], map[string]string{"name": "x", "slug": slug}); st != 409 {
		t.Fatalf("duplicate slug: %d", st)
	}
	st, body := e.call("POST", "/api/v1/communities", e.Tokens["platform_admin"], map[string]string{"name": "x", "slug": "Bad Slug"})
	if st != 422 || errorOf(body)["field"] != "slug" {
		t.Fatalf("bad slug: %d %v", st, body)
	}
}

func TestBadInputNamesTheFieldAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"login":"x","password":"long enough","role":"admin"}`, "login"},
		{`{"login":"okname","password":"short","role":"admin"}`, "password"},
		{`{"login":"okname","password":"long enough","role":"king"}`, "role"},
		{`{"login":"okname","password":"long enough","role":"platform_admin"}`, "role"},
		{`{"login":"okname","password":"long enough","role":"volunteer","pin":"12"}`, "pin"},
		{`{"login":5,"password":"long enough","role":"admin"}`, "login"},
	} {
		st, body := e.call("POST", e.c()+"/users", e.Tokens["admin"], tc.body)
		if st != 422 || errorOf(body)["field"] != tc.field {
			t.Errorf("%s: %d %v, want 422 field %s", tc.body, st, body, tc.field)
		}
	}
	if st, _ := e.call("POST", e.c()+"/users", e.Tokens["admin"], `{not json`); st != 400 {
		t.Errorf("malformed JSON: %d, want 400", st)
	}
	var n int
	e.DB.Get(&n, `SELECT count(*) FROM users WHERE login='okname'`)
	if n != 0 {
		t.Fatalf("bad input wrote %d users", n)
	}
}

func TestEveryWriteLeavesAnAuditRow(t *testing.T) {
	e := newEnv(t)
	st, g := e.call("POST", e.c()+"/grids", e.Tokens["admin"], map[string]string{"name": "第九网格"})
	if st != 201 {
		t.Fatalf("create grid: %d %v", st, g)
	}
	var row struct {
		UserID string `db:"user_id"`
		Action string `db:"action"`
		After  string `db:"after"`
	}
	if err := e.DB.Get(&row, `SELECT user_id, action, after::text AS after FROM audit_log WHERE entity='grid' AND entity_id=$1`, g["id"]); err != nil {
		t.Fatal(err)
	}
	if row.UserID != e.Users["admin"].ID || row.Action != "create" || !strings.Contains(row.After, "第九网格") {
		t.Fatalf("audit row %+v", row)
	}
}
