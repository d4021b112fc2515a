package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"shelin/identity"
)

// The stall in Chromium: pair the tablet, PIN sign-in, a cash sale with
// change, a QR sale paid from a second browser context on /pay/{token}
// (served by a second replica, so the "paid" tick reaches the tablet through
// LISTEN/NOTIFY), and the receipt page with the fund share.
func TestTabletSellsForCashAndQRInTheBrowser(t *testing.T) {
	p := newPOSEnv(t, 10)
	replicaB, _ := startServer(t, p.DB, p.dbURL)

	st, dev := p.call("POST", p.c()+"/devices", p.Tokens[identity.Admin], map[string]any{"location_id": p.stall, "name": "平板 1"})
	if st != 201 {
		t.Fatalf("create device %d %v", st, dev)
	}
	code := dev["pairing_code"].(string)
	vol := p.Users[identity.Volunteer]

	tablet := browser(t)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tablet, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			screenshot(t, tablet, "pos-failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tablet, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text %s: %v", sel, err)
		}
		return s
	}
	step("pair",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(p.URL+"/pos?code="+code),
		chromedp.WaitVisible("#pair-submit"),
		chromedp.Click("#pair-submit"),
		chromedp.WaitVisible(`#who-list button[data-user="`+vol.ID+`"]`))
	screenshot(t, tablet, "pos-1-who-1280x800")
	step("pin",
		chromedp.Click(`#who-list button[data-user="`+vol.ID+`"]`),
		chromedp.WaitVisible("#pin-2"),
		chromedp.Click("#pin-2"), chromedp.Click("#pin-4"), chromedp.Click("#pin-6"), chromedp.Click("#pin-8"))
	screenshot(t, tablet, "pos-2-pin-1280x800")
	step("sign in", chromedp.Click("#pin-ok"), chromedp.WaitVisible("#tile-MDS-6"), chromedp.WaitVisible("#shift-open-quick"))
	step("open shift",
		chromedp.Click("#shift-open-quick"), chromedp.WaitVisible("#shift-open-submit"),
		chromedp.Click("#key-1"), chromedp.Click("#key-0"), chromedp.Click("#key-0"),
		chromedp.Click("#shift-open-submit"), chromedp.WaitNotVisible("#overlay"))

	// Cash: one box of pastry (¥38.00), the tourist hands over ¥50.
	step("cart", chromedp.Click("#tile-MDS-6"), chromedp.Click("#tile-PC-1"), chromedp.Click("#tile-PC-1"))
	if got := text("#cart-total"); got != "¥49.00" {
		t.Fatalf("cart total %q", got)
	}
	screenshot(t, tablet, "pos-3-sell-1280x800")
	step("portrait", chromedp.EmulateViewport(800, 1280), chromedp.WaitVisible("#pay-cash"))
	screenshot(t, tablet, "pos-3-sell-800x1280")
	step("cash", chromedp.EmulateViewport(1280, 800), chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-50"), chromedp.Click("#quick-50"))
	if got := text("#cash-change"); !strings.Contains(got, "¥1.00") {
		t.Fatalf("change shown %q", got)
	}
	step("cash done", chromedp.Click("#cash-done"), chromedp.WaitVisible("#paid-tick"))
	if got := text("#paid-change"); !strings.Contains(got, "¥1.00") {
		t.Fatalf("change after the sale %q", got)
	}
	screenshot(t, tablet, "pos-4-cash-paid-1280x800")
	step("next", chromedp.Click("#next-customer"), chromedp.WaitNotVisible("#overlay"))

	// QR: the code full screen; the tourist pays on their phone.
	step("qr", chromedp.Click("#tile-MDS-6"), chromedp.Click("#pay-qr"), chromedp.WaitVisible("#qr-img"))
	if _, err := chromedp.Run(tablet, chromedp.Poll[bool](`document.querySelector('#qr-img').naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the QR image did not load: %v", err)
	}
	screenshot(t, tablet, "pos-5-qr-1280x800")
	shot, err := chromedp.Run(tablet, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	var payload string
	if err := p.DB.Get(&payload, `SELECT qr_payload FROM payments WHERE community_id=$1 AND qr_payload IS NOT NULL ORDER BY created_at DESC LIMIT 1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(payload, p.URL+"/pay/") {
		t.Fatalf("payload %q", payload)
	}
	// What the tablet shows decodes to exactly the payload (a real QR reader).
	shotFile := filepath.Join(t.TempDir(), "tablet-qr.png")
	os.WriteFile(shotFile, shot, 0o644)
	if out, err := exec.Command("zbarimg", "-q", "--raw", shotFile).Output(); err != nil || strings.TrimSpace(string(out)) != payload {
		t.Fatalf("the QR on screen decodes to %q (%v), want %q", out, err, payload)
	}
	phone, cancel := chromedp.NewContext(tablet, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(phone,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(strings.Replace(payload, p.URL, replicaB, 1)),
		chromedp.WaitVisible("#pay-button")); err != nil {
		t.Fatalf("wallet page: %v", err)
	}
	banner, _ := chromedp.Run(phone, chromedp.Text("#sim-banner"))
	if !strings.Contains(banner, "模拟") {
		t.Fatalf("the wallet must say it is a simulation: %q", banner)
	}
	screenshot(t, phone, "pos-6-wallet-390x844")
	if err := chromedp.Do(phone, chromedp.Click("#pay-button"), chromedp.WaitVisible("#pay-done")); err != nil {
		t.Fatalf("pay: %v", err)
	}

	// The tablet shows paid by itself: notification → webhook (queue) → NOTIFY → SSE.
	start := time.Now()
	step("tablet shows paid", chromedp.WaitVisible("#paid-tick"))
	t.Logf("paid tick after %s", time.Since(start).Round(time.Millisecond))
	if got := text("#paid-tick"); !strings.Contains(got, "已支付") {
		t.Fatalf("paid tick %q", got)
	}
	if _, err := chromedp.Run(tablet, chromedp.Poll[bool](`document.querySelector('#receipt-qr').naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the receipt QR did not load: %v", err)
	}
	screenshot(t, tablet, "pos-7-qr-paid-1280x800")
	receiptURL, err := chromedp.Run(tablet, chromedp.Evaluate[string](`document.querySelector('#receipt-link').href`))
	if err != nil || !strings.HasPrefix(receiptURL, p.URL+"/r/") {
		t.Fatalf("receipt link %q %v", receiptURL, err)
	}

	// The tourist's receipt shows what went to the fund: 38.00 − 20.00.
	if err := chromedp.Do(phone, chromedp.Navigate(receiptURL), chromedp.WaitVisible("#receipt-fund")); err != nil {
		t.Fatalf("receipt page: %v", err)
	}
	fundLine, _ := chromedp.Run(phone, chromedp.Text("#receipt-fund"))
	if !strings.Contains(fundLine, "其中 ¥18.00 进入") {
		t.Fatalf("receipt fund line %q", fundLine)
	}
	status, _ := chromedp.Run(phone, chromedp.Text("#receipt-status"))
	if !strings.Contains(status, "已支付") {
		t.Fatalf("receipt status %q", status)
	}
	screenshot(t, phone, "pos-8-receipt-390x844")

	// The 58 mm print layout: 58 mm is about 219 CSS pixels; nothing spills
	// sideways and the fund share is printed.
	if _, err := chromedp.Call(phone, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(phone, chromedp.EmulateViewport(219, 900)); err != nil {
		t.Fatal(err)
	}
	fits, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= 219 && getComputedStyle(document.querySelector('#print').parentElement).display === 'none'`))
	if err != nil || !fits {
		t.Fatalf("the receipt does not fit 58 mm paper in print: %v", err)
	}
	screenshot(t, phone, "pos-8-receipt-print-58mm")
}
