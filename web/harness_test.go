package web_test

// Test harness shared by every test of package web: a real server on a real
// database, signed-in users of each role, a JSON client and a Chromium.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/web"
)

const testPassword = "correct horse 1"

// env is one running server with one community and a user per role.
type env struct {
	t      *testing.T
	URL    string
	DB     *sqlx.DB
	Srv    *web.Server
	Com    identity.Community
	Users  map[identity.Role]identity.User
	Tokens map[identity.Role]string
}

func randomSlug() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "t-" + hex.EncodeToString(b)
}

// newEnv starts a server on the package database with a fresh community.
// The sandbox payment provider is on, as in `make run`.
func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the server's configuration changed by change.
func newEnvWith(t *testing.T, change func(*web.Config)) *env {
	t.Helper()
	identity.SetFastHashing()
	d := dbtest.Open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := web.Config{BaseURL: base, SecretKey: make([]byte, 32), SandboxSecret: "test-sandbox-secret", Sandbox: true,
		Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if change != nil {
		change(&cfg)
	}
	srv, err := web.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	// Every test signs in from 127.0.0.1: only the per-IP throttle test
	// lowers this again.
	srv.Identity().MaxFailuresPerIP = 1 << 30
	app := srv.App()
	go app.Listener(ln)
	t.Cleanup(func() {
		srv.Close()
		app.ShutdownWithTimeout(5 * time.Second)
	})
	e := &env{t: t, URL: base, DB: d, Srv: srv, Users: map[identity.Role]identity.User{}, Tokens: map[identity.Role]string{}}
	e.Com, e.Users = e.newCommunity()
	for r, u := range e.Users {
		e.Tokens[r] = e.login(u.Login, testPassword)
	}
	return e
}

// newCommunity creates a community with one user per role (and a platform admin).
func (e *env) newCommunity() (identity.Community, map[identity.Role]identity.User) {
	e.t.Helper()
	ids := identity.New(e.DB)
	users := map[identity.Role]identity.User{}
	var com identity.Community
	err := db.InTx(context.Background(), e.DB, func(tx *sqlx.Tx) (err error) {
		slug := randomSlug()
		if com, err = ids.CreateCommunity(context.Background(), tx, identity.NewCommunity{Name: "测试社区 " + slug, Slug: slug}); err != nil {
			return err
		}
		for _, r := range identity.Roles {
			cid := com.ID
			if r == identity.PlatformAdmin {
				cid = ""
			}
			u, err := ids.CreateUser(context.Background(), tx, cid, identity.NewUser{Login: string(r) + "-" + slug, Password: testPassword, Role: r, PIN: "2468"})
			if err != nil {
				return err
			}
			users[r] = u
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return com, users
}

func (e *env) login(login, password string) string {
	e.t.Helper()
	st, body := e.call("POST", "/api/v1/sessions", "", map[string]string{"login": login, "password": password})
	if st != 201 {
		e.t.Fatalf("sign in %s: %d %v", login, st, body)
	}
	return body["token"].(string)
}

// c returns the API prefix of the env's community: /api/v1/communities/{id}.
func (e *env) c() string { return "/api/v1/communities/" + e.Com.ID }

// call sends a JSON request (body may be nil, a string of raw JSON, or any
// value) and returns the status and the decoded JSON object.
func (e *env) call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	e.t.Helper()
	st, raw := e.raw(method, path, token, body, headers...)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	return st, out
}

// raw is call without decoding.
func (e *env) raw(method, path, token string, body any, headers ...string) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewBuffer(j)
	}
	req, _ := http.NewRequest(method, e.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// errorOf returns the error object of an error response.
func errorOf(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	return e
}

// browser starts a headless Chromium (Debian's) and returns a context for
// chromedp. A missing browser is a failure, never a skip.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make test` (it installs it) or apt-get install -y chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where browser tests save PNGs for people to look at.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SHELIN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "shelin-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves a full-page PNG of the current page under screenshotDir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
