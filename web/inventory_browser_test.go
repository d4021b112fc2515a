package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// A volunteer receives pastry at the neighbourhood centre, carries part of it
// to the Peony Park stall, and sees the levels of both places — through the
// real pages, in Chinese.
func TestBrowserReceiveTransferSeeLevels(t *testing.T) {
	e := newEnv(t)
	store, stall, tea := invSetup(e)
	_ = store
	_ = stall
	ctx := browser(t)
	vol := e.Users["volunteer"]
	base := e.URL + "/admin/" + e.Com.ID
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", vol.Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		// The stock tile is on the volunteer's home page.
		chromedp.Click(`a[href="/admin/`+e.Com.ID+`/stock"]`),
		chromedp.WaitVisible("#go-receive"),
		chromedp.Click("#go-receive"),
		chromedp.WaitVisible("#receive-form"),
		chromedp.SetValue("#product-0", tea),
		chromedp.SendKeys("#qty-0", "30"),
		chromedp.SendKeys("#lot-0", "TEA-2611"),
		chromedp.Click("#receive-submit"),
		chromedp.WaitVisible("#done"),
	)
	if err != nil {
		t.Fatal(err)
	}
	done, _ := chromedp.Run(ctx, chromedp.Text("#done"))
	if done != "✓ 入库已记录。" {
		t.Fatalf("after receiving: %q", done)
	}
	// Asking for more than is there shows a plain message and changes nothing.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/stock/transfer"),
		chromedp.WaitVisible("#transfer-form"),
		chromedp.SetValue("#product-0", tea),
		chromedp.SendKeys("#qty-0", "31"),
		chromedp.Click("#transfer-submit"),
		chromedp.WaitVisible("#form-error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text("#form-error"))
	if msg != "库存不足：牡丹花茶 在邻里中心只剩 30 件。" {
		t.Fatalf("shortage message %q", msg)
	}
	// The form keeps what was typed; correct the quantity and book it.
	kept, _ := chromedp.Run(ctx, chromedp.Value("#qty-0"))
	if kept != "31" {
		t.Fatalf("the form forgot the quantity: %q", kept)
	}
	screenshot(t, ctx, "inventory-transfer-short-1280x800")
	err = chromedp.Do(ctx,
		chromedp.SetValue("#qty-0", "12"),
		chromedp.Click("#transfer-submit"),
		chromedp.WaitVisible("#done"),
	)
	if err != nil {
		t.Fatal(err)
	}
	level := func(location string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(fmt.Sprintf(`table[data-location="%s"] tr[data-sku="TEA-1"] td.on-hand`, location)))
		if err != nil {
			t.Fatalf("level at %s: %v", location, err)
		}
		return v
	}
	if got := level("邻里中心"); got != "18" {
		t.Fatalf("centre shows %s, want 18", got)
	}
	if got := level("牡丹公园摊位"); got != "12" {
		t.Fatalf("stall shows %s, want 12", got)
	}
	screenshot(t, ctx, "inventory-stock-1280x800")
	if oh, _, _ := e.stockOf(tea, stall); oh != 12 {
		t.Fatalf("API says the stall has %d", oh)
	}
	// The log shows both steps.
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/stock/movements"), chromedp.WaitVisible("#movements"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#movements tbody tr").length`))
	if rows != 3 {
		t.Fatalf("stock log shows %d rows, want 3 (receipt, out, in)", rows)
	}
}
