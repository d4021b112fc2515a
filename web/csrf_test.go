package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A page session lives in an HttpOnly cookie; a write with that cookie needs
// the session's CSRF token, so another site cannot forge it.
func TestCookieWritesNeedTheCSRFToken(t *testing.T) {
	e := newEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"login": {e.Users["admin"].Login}, "password": {testPassword}}
	res, err := client.PostForm(e.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "shelin_session" {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login: %d, cookie %+v", res.StatusCode, cookie)
	}
	post := func(body string) int {
		req, _ := http.NewRequest("POST", e.URL+"/logout", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := post(""); st != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d, want 403", st)
	}
	if st := post("_csrf=forged"); st != http.StatusForbidden {
		t.Fatalf("logout with a wrong token: %d, want 403", st)
	}
	// The home page carries the real token in its logout form.
	req, _ := http.NewRequest("GET", e.URL+"/", nil)
	req.AddCookie(cookie)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := new(strings.Builder)
	buf := make([]byte, 1<<16)
	for {
		n, err := res.Body.Read(buf)
		page.Write(buf[:n])
		if err != nil {
			break
		}
	}
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page.String())
	if m == nil {
		t.Fatal("no CSRF token on the home page")
	}
	if st := post("_csrf=" + url.QueryEscape(m[1])); st != http.StatusSeeOther {
		t.Fatalf("logout with the token: %d, want 303", st)
	}
}

// Security headers are on every answer.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	res, err := http.Get(e.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
	} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, res.Header.Get(h), want)
		}
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}
