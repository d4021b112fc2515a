package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shelin/fund"
)

// submit clicks a form's button and waits until the next page has loaded.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var v chromedp.Void
		if _, err := chromedp.Evaluate[bool]("window.__before = true")(ctx, t); err != nil {
			return v, err
		}
		if _, err := chromedp.Click(sel)(ctx, t); err != nil && !strings.Contains(err.Error(), "navigated") {
			return v, err
		}
		// The page goes away under us while it navigates: ask again until
		// the new one has loaded.
		var err error
		for i := 0; i < 200; i++ {
			var done bool
			if done, err = chromedp.Evaluate[bool]("window.__before === undefined && document.readyState === 'complete'")(ctx, t); err == nil && done {
				return v, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return v, fmt.Errorf("no new page after clicking %s: %v", sel, err)
	}
}

// The admin and the treasurer run a project through the pages: propose (a
// bad share is refused in plain words), approve, record residents' cash,
// pay with a voucher photo, and see the ledger verified.
func TestBrowserFundPagesProjectFlow(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.postSale("p"+string(rune('a'+i)), "100.00", "20.00") // ¥400 in the fund
	}
	voucher := filepath.Join(t.TempDir(), "voucher.png")
	if err := os.WriteFile(voucher, tinyPNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	admin := e.Users["admin"]
	m := e.URL + "/admin/" + e.Com.ID
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys("#login", admin.Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		chromedp.Navigate(m+"/projects"),
		chromedp.WaitVisible("#propose-form"),
		chromedp.SendKeys("#p-title", "共筑晴窗"),
		chromedp.SendKeys("#p-budget", "1000"),
		chromedp.SendKeys("#p-share", "1200"),
		submit("#propose-submit"),
		chromedp.WaitVisible("#propose-error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text("#propose-error"))
	if !strings.Contains(msg, "exceed") && !strings.Contains(msg, "超过") {
		t.Fatalf("error %q", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue("#p-share", "300"),
		submit("#propose-submit"),
		chromedp.WaitVisible("#approve"),
		submit("#approve"),
		chromedp.WaitVisible("#disbursement-form"),
	)
	if err != nil {
		t.Fatal(err)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text("#project-status"))
	committed, _ := chromedp.Run(ctx, chromedp.Text("#fund-committed"))
	if status != "募集中" || committed != "¥300.00" {
		t.Fatalf("after approval: %q %q", status, committed)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#c-amount", "700"),
		chromedp.SendKeys("#c-receipt", "WHL-0099"),
		chromedp.SendKeys("#c-who", "李阿姨"),
		submit("#contribution-submit"),
		chromedp.WaitVisible("#complete-form"),
		chromedp.SendKeys("#d-amount", "1000.01"),
		chromedp.SendKeys("#d-payee", "洛阳玻璃店"),
		submit("#disbursement-submit"),
		chromedp.WaitVisible("#project-error"),
	)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML.slice(0, 1500)"))
		t.Fatalf("%v at %s: %s", err, loc, html)
	}
	msg, _ = chromedp.Run(ctx, chromedp.Text("#project-error"))
	if !strings.Contains(msg, "项目账上只有 ¥1000.00") {
		t.Fatalf("overdraw message %q", msg)
	}
	e.bankIn(fund.Contributions("cash"), "700.00") // the 邻长 deposits the residents' cash
	err = chromedp.Do(ctx,
		chromedp.SetValue("#d-amount", "600"),
		chromedp.SetValue("#d-payee", "洛阳玻璃店"),
		chromedp.SendKeys("#d-memo", "窗户玻璃"),
		chromedp.SetUploadFiles("#d-voucher", []string{voucher}),
		submit("#disbursement-submit"),
		chromedp.WaitVisible("#complete-form"),
	)
	if err != nil {
		t.Fatal(err)
	}
	holds, _ := chromedp.Run(ctx, chromedp.Text("#holds"))
	table, _ := chromedp.Run(ctx, chromedp.Text("#disbursements"))
	if holds != "¥400.00" || !strings.Contains(table, "洛阳玻璃店") || !strings.Contains(table, "查看") {
		t.Fatalf("after payment: holds %q, table %q", holds, table)
	}
	screenshot(t, ctx, "fund-project-1440x900")
	err = chromedp.Do(ctx, chromedp.Navigate(m+"/fund"), chromedp.WaitVisible("#verify"))
	if err != nil {
		t.Fatal(err)
	}
	verify, _ := chromedp.Run(ctx, chromedp.Text("#verify"))
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('.ledger-table tbody tr').length"))
	if !strings.Contains(verify, "✔") || rows < 10 {
		t.Fatalf("ledger page: %q with %d rows", verify, rows)
	}
	screenshot(t, ctx, "fund-ledger-1440x900")
	// A shop's donation, recorded on the ledger page, becomes fund money.
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#g-amount", "500"),
		chromedp.SendKeys("#g-donor", "爱心商户 牡丹茶社"),
		submit("#donation-submit"),
		chromedp.WaitVisible("#donation-done"),
	)
	if err != nil {
		t.Fatal(err)
	}
	bal, _ := chromedp.Run(ctx, chromedp.Text("#ledger-fund h2"))
	if !strings.Contains(bal, "¥600.00") {
		t.Fatalf("fund after the donation: %q", bal)
	}
	// Rules that do not sum to 100 come back with a plain message.
	err = chromedp.Do(ctx,
		chromedp.Navigate(m+"/fund/rules"),
		chromedp.WaitVisible("#rules-form"),
		chromedp.SetValue(`input[name="name_1"]`, "养老"),
		chromedp.SetValue(`input[name="percent_1"]`, "20"),
		submit("#rules-submit"),
		chromedp.WaitVisible("#rules-error"),
		chromedp.SetValue(`input[name="percent_0"]`, "80"),
		submit("#rules-submit"),
		chromedp.WaitVisible("#rules-saved"),
	)
	if err != nil {
		t.Fatal(err)
	}
}
