package web_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
)

// TestGroupBuyJoinOnAPhone: a neighbour joins on a phone-sized window —
// quantity, name and phone, pay in the sandbox wallet — and sees the
// pickup code, huge. Screenshots at 390×844 (and the join page at 1280×800
// and 800×1280) for a person to look at.
func TestGroupBuyJoinOnAPhone(t *testing.T) {
	p := newPOSEnv(t, 10)
	// The pastry has a picture (a plain peony-red square will do).
	img := image.NewNRGBA(image.Rect(0, 0, 320, 200))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 0xc2, 0x18, 0x5b, 0xff
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(context.Background(), p.DB, func(tx *sqlx.Tx) error {
		_, err := p.Srv.POS().Inventory.SetProductImage(context.Background(), tx, p.Com.ID, p.pastry, pngBuf.Bytes())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c := p.gbCampaign(3, 20)
	// Two neighbours already joined and paid: the list shows masked names.
	token := tokenOf(c["join_url"].(string))
	for i, n := range []string{"王秀英", "李建国"} {
		st, j := p.call("POST", "/api/v1/groupbuys/"+token+"/joins", "", map[string]any{"name": n, "phone": "1390000000" + string(rune('1'+i)),
			"building": "3号楼", "qty": 1, "provider": "sandbox"}, "Idempotency-Key", "pre-"+n)
		if st != 201 {
			t.Fatalf("join: %d %v", st, j)
		}
		p.payWallet(j["payment"].(map[string]any)["qr_payload"].(string))
		p.waitJoin("/api/v1/groupbuys/"+token+"/joins/"+tokenOf(j["url"].(string))[len(token)+3:], "paid")
	}
	phone := browser(t)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(phone, 25*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			screenshot(t, phone, "gb-failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(phone, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text %s: %v", sel, err)
		}
		return s
	}
	step("open", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(c["join_url"].(string)), chromedp.WaitVisible("#gb-next-1"), chromedp.WaitVisible("#gb-pic"))
	if got := text("#gb-recent"); !strings.Contains(got, "王**") || strings.Contains(got, "王秀英") {
		t.Fatalf("participants list %q", got)
	}
	if got := text("#gb-progress-text"); !strings.Contains(got, "2 / 3") {
		t.Fatalf("progress %q", got)
	}
	if got := text("#gb-fund"); !strings.Contains(got, "¥8.00") {
		t.Fatalf("fund line %q", got)
	}
	// Body text is at least 20 px on the join page.
	size, err := chromedp.Run(phone, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector('.gb-fund')).fontSize)`))
	if err != nil || size < 20 {
		t.Fatalf("font size %v %v", size, err)
	}
	screenshot(t, phone, "gb-join-390x844-1-deal")
	step("two", chromedp.Click("#gb-more"))
	if got := text("#gb-total"); !strings.Contains(got, "¥76.00") {
		t.Fatalf("total %q", got)
	}
	step("step 2", chromedp.Click("#gb-next-1"), chromedp.WaitVisible("#gb-name"))
	step("who", chromedp.SendKeys("#gb-name", "张桂兰"), chromedp.SendKeys("#gb-phone", "138 0013 8000"), chromedp.SendKeys("#gb-building", "5号楼1单元"))
	screenshot(t, phone, "gb-join-390x844-2-who")
	step("step 3", chromedp.Click("#gb-next-2"), chromedp.WaitVisible("#gb-pay-sandbox"))
	screenshot(t, phone, "gb-join-390x844-3-pay")
	step("pay", chromedp.Click("#gb-pay-sandbox"), chromedp.WaitVisible("#pay-button"))
	if got := text("#pay-amount"); !strings.Contains(got, "76.00") {
		t.Fatalf("wallet amount %q", got)
	}
	screenshot(t, phone, "gb-join-390x844-4-wallet")
	step("wallet", chromedp.Click("#pay-button"), chromedp.WaitVisible("#pay-receipt"), chromedp.Click("#pay-receipt"))
	step("code", chromedp.WaitVisible("#gb-code"))
	code := text("#gb-code")
	if !regexp.MustCompile(`^\d{6}$`).MatchString(strings.TrimSpace(code)) {
		t.Fatalf("pickup code %q", code)
	}
	screenshot(t, phone, "gb-join-390x844-5-code")
	// The 邻长 sees the new neighbour, phone masked, and checks the code after settling.
	st, js := p.call("GET", p.c()+"/groupbuys/"+c["id"].(string)+"/joins", p.Tokens[identity.Leader], nil)
	if st != 200 || !strings.Contains(strings.Join(joinPhones(js), ","), "138****8000") {
		t.Fatalf("joins %d %v", st, js)
	}
	// The other sizes of the join page.
	for _, sz := range [][2]int64{{1280, 800}, {800, 1280}} {
		step("size", chromedp.EmulateViewport(sz[0], sz[1]), chromedp.Navigate(c["join_url"].(string)), chromedp.WaitVisible("#gb-title"))
		screenshot(t, phone, "gb-join-"+itoa(sz[0])+"x"+itoa(sz[1]))
	}
	step("poster", chromedp.EmulateViewport(800, 1280), chromedp.Navigate(c["poster_url"].(string)), chromedp.WaitVisible("#gb-poster-qr"))
	screenshot(t, phone, "gb-poster-800x1280")

	// The 邻长 on their phone: my group-buys, settle, check the code once.
	step("leader sign-in", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(p.URL+"/login"), chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", p.Users[identity.Leader].Login), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"), chromedp.WaitVisible("#home-links"))
	step("list", chromedp.Navigate(p.URL+"/admin/"+p.Com.ID+"/groupbuys"), chromedp.WaitVisible("#gb-create"))
	screenshot(t, phone, "gb-leader-390x844-1-list")
	step("detail", chromedp.Navigate(p.URL+"/admin/"+p.Com.ID+"/groupbuys/"+c["id"].(string)), chromedp.WaitVisible("#gb-joins"))
	step("proxy", chromedp.SendKeys("#gb-p-name", "刘奶奶"), chromedp.SendKeys("#gb-p-phone", "13700001111"), chromedp.SendKeys("#gb-p-building", "2号楼"),
		chromedp.Click("#gb-proxy-submit"), chromedp.WaitVisible("#gb-d-msg"))
	if got := text("#gb-d-msg"); !strings.Contains(got, "刘奶奶") || !strings.Contains(got, "¥38.00") {
		t.Fatalf("proxy message %q", got)
	}
	screenshot(t, phone, "gb-leader-390x844-1b-proxy")
	if got := text("#gb-joins"); !strings.Contains(got, "138****8000") || strings.Contains(got, "13800138000") {
		t.Fatalf("leader's joins %q", got)
	}
	step("settle", chromedp.Click("#gb-settle-submit"), chromedp.WaitVisible("#gb-pickup"))
	if got := text("#gb-d-msg"); !strings.Contains(got, "已成团") {
		t.Fatalf("settled message %q", got)
	}
	step("reload", chromedp.Navigate(p.URL+"/admin/"+p.Com.ID+"/groupbuys/"+c["id"].(string)), chromedp.WaitVisible("#gb-pickup"))
	step("pickup", chromedp.SendKeys("#gb-code-in", strings.TrimSpace(code)), chromedp.Click("#gb-pickup-submit"), chromedp.WaitVisible("#gb-d-msg"))
	if got := text("#gb-d-msg"); !strings.Contains(got, "张桂兰") {
		t.Fatalf("pickup message %q", got)
	}
	screenshot(t, phone, "gb-leader-390x844-2-picked")
	step("again", chromedp.SendKeys("#gb-code-in", strings.TrimSpace(code)), chromedp.Click("#gb-pickup-submit"), chromedp.WaitVisible("#gb-error"))
	if got := text("#gb-error"); !strings.Contains(got, "已经用过") {
		t.Fatalf("second pickup %q", got)
	}
	screenshot(t, phone, "gb-leader-390x844-3-used")
}

func joinPhones(list map[string]any) []string {
	var out []string
	items, _ := list["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		s, _ := m["phone"].(string)
		out = append(out, s)
	}
	return out
}
