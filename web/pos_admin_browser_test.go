package web_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shelin/identity"
)

// An admin makes a pairing code on the stalls page; the code pairs a tablet once.
func TestAdminPairsATabletFromThePage(t *testing.T) {
	p := newPOSEnv(t, 5)
	admin := p.Users[identity.Admin]
	b := browser(t)
	ctx, cancel := context.WithTimeout(b, 40*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(p.URL+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", admin.Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		chromedp.Navigate(p.URL+"/admin/"+p.Com.ID+"/pos"),
		chromedp.WaitVisible("#stalls"),
		chromedp.Click(`#stalls form[action$="/pos/devices"] button`),
		chromedp.WaitVisible("#pairing-code"))
	if err != nil {
		screenshot(t, b, "pos-admin-failed")
		t.Fatal(err)
	}
	screenshot(t, b, "pos-admin-pairing-1440x900")
	code, _ := chromedp.Run(ctx, chromedp.Text("#pairing-code"))
	if !regexp.MustCompile(`^[A-Z2-9]{4}-[A-Z2-9]{4}$`).MatchString(code) {
		t.Fatalf("pairing code %q", code)
	}
	if st, body := p.call("POST", "/api/v1/pos/pair", "", map[string]any{"code": code}); st != 201 || body["credential"] == "" {
		t.Fatalf("pair with the page's code: %d %v", st, body)
	}
	if st, _ := p.call("POST", "/api/v1/pos/pair", "", map[string]any{"code": code}); st != 401 {
		t.Fatalf("a code works once: %d", st)
	}
}
