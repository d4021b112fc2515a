package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shelin/identity"
	"shelin/internal/money"
	"shelin/reconcile"
)

// The treasurer's day in Chromium: the day page with a cash variance and an
// unmatched statement row at laptop, tablet and phone sizes; the issues
// resolved from the page; the close; the calendar; and the Z-report on A4
// and on 58 mm paper as it prints.
func TestBrowserTreasurerDay(t *testing.T) {
	p := newPOSEnv(t, 20)
	vol, tres := p.Tokens[identity.Volunteer], p.Tokens[identity.Treasurer]
	loc := p.Com.Location()
	today := reconcile.Today(time.Now(), loc)
	_, sh := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "100"})
	for i, n := range []int{2, 1, 3} {
		if st, s := p.sale("b-"+string(rune('a'+i)), map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": n}, {"product_id": p.card, "qty": 2}},
			"payment": map[string]any{"method": "cash", "tendered": "300"}}); st != 201 {
			t.Fatalf("sale %d %v", st, s)
		}
	}
	// Counted ¥2 short.
	if st, b := p.call("POST", p.c()+"/shifts/"+sh["id"].(string)+"/close", vol, map[string]any{"counted_cash": "359.00"}); st != 200 || b["variance"] != "-2.00" {
		t.Fatalf("shift close %d %v", st, b)
	}
	row := reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: "4200001999202612010042", TxnID: "4200001999", Amount: money.MustParse("38.00"), Fee: money.MustParse("0.23"), At: time.Now()}
	if st, b := p.uploadStatement(tres, "wechatpay", "微信账单.csv", reconcile.WriteWeChat([]reconcile.Row{row}, loc)); st != 201 {
		t.Fatalf("upload %d %s", st, b)
	}

	ctx := browser(t)
	dayURL := p.URL + "/admin/" + p.Com.ID + "/days/" + today
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(p.URL+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", p.Users[identity.Treasurer].Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		chromedp.Navigate(dayURL),
		chromedp.WaitVisible("#issues-table"),
	); err != nil {
		t.Fatal(err)
	}
	open, err := chromedp.Run(ctx, chromedp.Text("#open-issues"))
	if err != nil || strings.TrimSpace(open) != "2" {
		t.Fatalf("open issues %q %v", open, err)
	}
	if dis, err := chromedp.Run(ctx, chromedp.AttributeValue("#close-day", "disabled")); err != nil || !dis.Exists {
		t.Fatalf("the close button should be disabled with open issues: %v %v", dis, err)
	}
	screenshot(t, ctx, "day-open-1440x900")
	for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Reload(), chromedp.WaitVisible("#issues-table")); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "day-open-"+itoa(size[0])+"x"+itoa(size[1]))
	}
	// Resolve both issues from the page, then close.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900), chromedp.Reload(), chromedp.WaitVisible("#issues-table")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(`tr.is-open form.resolve input[name=note]`, "已核对，找零给错"),
			chromedp.Click(`tr.is-open form.resolve button[value=acknowledge]`),
			chromedp.WaitVisible("#day-done"),
		); err != nil {
			t.Fatalf("acknowledge %d: %v", i, err)
		}
	}
	// Accept the confirm dialog of the close form.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#close-day"), chromedp.WaitVisible("#z-link")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text("#day-status"))
	if err != nil || !strings.Contains(status, "已结账") {
		t.Fatalf("status %q %v", status, err)
	}
	screenshot(t, ctx, "day-closed-1440x900")
	if err := chromedp.Do(ctx, chromedp.Navigate(p.URL+"/admin/"+p.Com.ID+"/days"), chromedp.WaitVisible("#days-table")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "days-calendar-1440x900")
	// The Z-report: A4 on screen and as printed, and on 58 mm paper.
	if err := chromedp.Do(ctx, chromedp.Navigate(dayURL+"/z-report"), chromedp.WaitVisible("#z-hash")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "zreport-a4-1440x900")
	pdf, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{})
	if err != nil {
		t.Fatal(err)
	}
	pdfPath := filepath.Join(screenshotDir(t), "zreport-a4.pdf")
	if err := os.WriteFile(pdfPath, []byte(pdf.Data), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("pdf: %s", pdfPath)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(260, 900), chromedp.Navigate(dayURL+"/z-report?paper=58mm"), chromedp.WaitVisible("#z-hash")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "zreport-58mm-print")
	if bar, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('header.bar')).display`)); err != nil || bar != "none" {
		t.Fatalf("print style: the page header shows (%q) %v", bar, err)
	}
}

func itoa(n int64) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
