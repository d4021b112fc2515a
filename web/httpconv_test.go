package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"shelin/identity"
)

// do sends one request with headers and returns the response with its body
// read.
func (e *env) do(method, path, token string, headers ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, b
}

// HEAD answers like GET, without a body, for every GET of the API and the
// public pages.
func TestHEADAnswersLikeGETEverywhere(t *testing.T) {
	e := newEnv(t)
	token := e.Tokens[identity.Admin]
	paths := []string{"/login", "/c/" + e.Com.Slug, "/pos", "/"}
	for path, ops := range e.openAPI().Paths {
		if _, ok := ops["get"]; ok && !strings.HasSuffix(path, "/events") {
			paths = append(paths, fill(path, e.Com.ID))
		}
	}
	for _, p := range paths {
		get, body := e.do("GET", p, token)
		head, hbody := e.do("HEAD", p, token)
		if head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: %d, GET: %d", p, head.StatusCode, get.StatusCode)
		}
		if len(hbody) != 0 {
			t.Errorf("HEAD %s sent a body of %d bytes", p, len(hbody))
		}
		if ct := get.Header.Get("Content-Type"); head.Header.Get("Content-Type") != ct {
			t.Errorf("HEAD %s: Content-Type %q, GET %q", p, head.Header.Get("Content-Type"), ct)
		}
		_ = body
	}
	if len(paths) < 20 {
		t.Fatalf("only %d GET routes checked", len(paths))
	}
}

// Public pages carry an ETag and answer a matching If-None-Match with 304.
func TestPublicPagesAreConditional(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/c/" + e.Com.Slug, "/api/v1/public/" + e.Com.Slug + "/fund", "/login"} {
		res, _ := e.do("GET", p, "")
		tag := res.Header.Get("ETag")
		if res.StatusCode != 200 || tag == "" {
			t.Errorf("GET %s: %d, ETag %q", p, res.StatusCode, tag)
			continue
		}
		again, body := e.do("GET", p, "", "If-None-Match", tag)
		if again.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with If-None-Match %s: %d, %d bytes", p, tag, again.StatusCode, len(body))
		}
	}
}

// A 429 says when to try again.
func TestTooManyRequestsSaysWhenToRetry(t *testing.T) {
	e := newEnv(t)
	login := e.Users[identity.Treasurer].Login
	for i := 1; i <= 11; i++ {
		st, _ := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": login, "password": fmt.Sprintf("bad-%d", i)})
		if i <= 10 && st != 401 {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	req, err := http.NewRequest("POST", e.URL+"/api/v1/sessions", strings.NewReader(`{"login":"`+login+`","password":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
