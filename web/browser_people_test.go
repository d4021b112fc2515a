package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The platform admin opens a community with its first admin from the page;
// that admin adds a volunteer with a tablet PIN, and a bad PIN is explained
// in plain Chinese without adding anyone.
func TestBrowserPlatformOpensACommunityAndItsAdminAddsAVolunteer(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	slug := randomSlug()
	signIn := func(login string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/login"), chromedp.WaitVisible("#login-form"),
			chromedp.SendKeys("#login", login), chromedp.SendKeys("#password", testPassword),
			chromedp.Click("#login-submit"), chromedp.WaitVisible("#home-links"),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	signIn(e.Users["platform_admin"].Login)
	err := chromedp.Do(ctx,
		chromedp.Click(`#home-links a[href="/platform"]`), chromedp.WaitVisible("#platform-form"),
		chromedp.SendKeys("#name", "牡丹社区"), chromedp.SendKeys("#slug", slug),
		chromedp.SendKeys("#admin_login", "boss-"+slug), chromedp.SendKeys("#admin_password", testPassword),
		chromedp.Click("#platform-submit"), chromedp.WaitVisible("#platform-saved"),
	)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := chromedp.Run(ctx, chromedp.Text("#communities"))
	if !strings.Contains(list, "牡丹社区") {
		t.Fatalf("the new community is not listed: %q", list)
	}
	screenshot(t, ctx, "platform-communities-1280x800")
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
	signIn("boss-" + slug)
	err = chromedp.Do(ctx,
		chromedp.Click(`#home-links a[href$="/people"]`), chromedp.WaitVisible("#people-form"),
		chromedp.SendKeys("#display_name", "志愿者 赵阿姨"), chromedp.SendKeys("#login", "zhao-"+slug),
		chromedp.SendKeys("#password", testPassword), chromedp.SendKeys("#pin", "12"),
		chromedp.Click("#people-submit"), chromedp.WaitVisible("#people-error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text("#people-error"))
	if !strings.Contains(msg, "PIN 要 4–6 位数字") {
		t.Fatalf("bad PIN message %q", msg)
	}
	var n int
	e.DB.Get(&n, `SELECT count(*) FROM users WHERE login=$1`, "zhao-"+slug)
	if n != 0 {
		t.Fatal("a refused form added a user")
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#password", testPassword), chromedp.SendKeys("#pin", "2580"),
		chromedp.Click("#people-submit"), chromedp.WaitVisible("#people-saved"),
	)
	if err != nil {
		t.Fatal(err)
	}
	people, _ := chromedp.Run(ctx, chromedp.Text("#people"))
	if !strings.Contains(people, "志愿者 赵阿姨") || !strings.Contains(people, "志愿者") {
		t.Fatalf("people list %q", people)
	}
	screenshot(t, ctx, "people-1280x800")
	var pin *string
	e.DB.Get(&pin, `SELECT pin_hash FROM users WHERE login=$1`, "zhao-"+slug)
	if pin == nil || strings.Contains(*pin, "2580") {
		t.Fatal("the PIN must be stored, hashed")
	}
}
