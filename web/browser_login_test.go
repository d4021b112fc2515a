package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A person signs in through the real page, switches to English and back,
// and signs out.
func TestBrowserLoginSwitchLanguageLogout(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	admin := e.Users["admin"]
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/"),
		chromedp.WaitVisible("#login-form"),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Text("h1"))
	if title != "登录" {
		t.Fatalf("the login page must be in Chinese by default, h1 = %q", title)
	}
	// A wrong password shows a plain message, in Chinese.
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#login", admin.Login),
		chromedp.SendKeys("#password", "not the password"),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#login-error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text("#login-error"))
	if !strings.Contains(msg, "密码") {
		t.Fatalf("error message %q", msg)
	}
	screenshot(t, ctx, "login-error-1280x800")
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
	)
	if err != nil {
		t.Fatal(err)
	}
	who, _ := chromedp.Run(ctx, chromedp.Text("#who"))
	if !strings.Contains(who, "社区管理员") {
		t.Fatalf("home shows %q, want the admin role in Chinese", who)
	}
	screenshot(t, ctx, "home-admin-zh")
	if err := chromedp.Do(ctx, chromedp.Click("#lang-switch"), chromedp.WaitVisible("#home-links")); err != nil {
		t.Fatal(err)
	}
	who, _ = chromedp.Run(ctx, chromedp.Text("#who"))
	if !strings.Contains(who, "Community admin") {
		t.Fatalf("after switching to English: %q", who)
	}
	// The choice is remembered across pages.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible("#home-links")); err != nil {
		t.Fatal(err)
	}
	logout, _ := chromedp.Run(ctx, chromedp.Text("#logout"))
	if logout != "Sign out" {
		t.Fatalf("language not remembered: %q", logout)
	}
	screenshot(t, ctx, "home-admin-en")
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
	// Signed out: home sends us back to the login page.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
}
