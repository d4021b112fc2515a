package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"shelin/identity"
	"shelin/internal/dbtest"
	"shelin/web"
)

// newProxiedEnv is newEnv behind a reverse proxy: the server trusts
// 127.0.0.1 (where the test's requests come from) as a proxy, so the
// X-Forwarded-For header of a request names its client.
func newProxiedEnv(t *testing.T) *env {
	t.Helper()
	identity.SetFastHashing()
	d := dbtest.Open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	proxies, err := web.ParseTrustedProxies("127.0.0.1/32, ::1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{BaseURL: base, SecretKey: make([]byte, 32), SandboxSecret: "test-sandbox-secret",
		Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: proxies}, d)
	if err != nil {
		t.Fatal(err)
	}
	app := srv.App()
	go app.Listener(ln)
	t.Cleanup(func() {
		srv.Close()
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
	})
	e := &env{t: t, URL: base, DB: d, Srv: srv, Users: map[identity.Role]identity.User{}, Tokens: map[identity.Role]string{}}
	e.Com, e.Users = e.newCommunity()
	return e
}

// fromAddr is the X-Forwarded-For header of a client at addr.
func fromAddr(addr string) []string { return []string{"X-Forwarded-For", addr} }

// signIn tries a login and password, returning the status and Retry-After.
func (e *env) signIn(login, password string, headers ...string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.URL+"/api/v1/sessions", strings.NewReader(fmt.Sprintf(`{"login":%q,"password":%q}`, login, password)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Retry-After")
}

// parallel sends n requests at once and counts the answers by status.
func parallel(t *testing.T, n int, do func(i int) (int, error)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[int]int{}
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			st, err := do(i)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			counts[st]++
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return counts
}

// post sends a JSON POST without the test helpers (safe in goroutines).
func post(url, body string, headers ...string) (int, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// pairTablet sets a stall up in the env's community, registers a tablet
// for it and pairs it: the device credential.
func (e *env) pairTablet() string {
	e.t.Helper()
	st, loc := e.call("POST", e.c()+"/locations", e.Tokens[identity.Admin], map[string]string{"name": "牡丹园摊位 " + randomSlug(), "kind": "stall"})
	if st != 201 {
		e.t.Fatalf("create stall: %d %v", st, loc)
	}
	st, dev := e.call("POST", e.c()+"/devices", e.Tokens[identity.Admin], map[string]any{"location_id": loc["id"], "name": "平板 1"})
	if st != 201 {
		e.t.Fatalf("register tablet: %d %v", st, dev)
	}
	st, paired := e.call("POST", "/api/v1/pos/pair", "", map[string]any{"code": dev["pairing_code"]})
	if st != 201 {
		e.t.Fatalf("pair: %d %v", st, paired)
	}
	return paired["credential"].(string)
}

// pinLogin signs someone in on a paired tablet: status and body.
func (e *env) pinLogin(cred, userID, pin string) (int, map[string]any) {
	e.t.Helper()
	return e.call("POST", "/api/v1/pos/pin-login", "", map[string]string{"user_id": userID, "pin": pin}, "Shelin-Device", cred)
}
