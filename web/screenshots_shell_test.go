package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// The sign-in page at the real sizes of the people who use it: the stall
// tablet (landscape and portrait), a phone and the treasurer's laptop. The
// form must fit without sideways scrolling.
func TestScreenshotsOfTheSignInPage(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	for _, size := range [][2]int64{{1280, 800}, {800, 1280}, {390, 844}, {1440, 900}} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(size[0], size[1]),
			chromedp.Navigate(e.URL+"/login"),
			chromedp.WaitVisible("#login-form"),
		)
		if err != nil {
			t.Fatal(err)
		}
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("%dx%d: the page scrolls sideways", size[0], size[1])
		}
		fontSize, err := chromedp.Run(ctx, chromedp.Evaluate[float64]("parseFloat(getComputedStyle(document.querySelector('#login')).fontSize)"))
		if err != nil {
			t.Fatal(err)
		}
		if fontSize < 18 {
			t.Errorf("%dx%d: input text is %.0fpx, want at least 18px for elderly users", size[0], size[1], fontSize)
		}
		screenshot(t, ctx, fmt.Sprintf("login-%dx%d", size[0], size[1]))
	}
}
