package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shelin/identity"
	"shelin/orders/payment/fakealipay"
	"shelin/orders/payment/fakewechat"
	"shelin/web"
)

// An admin enters the WeChat Pay account on the payment settings page,
// saves it (the keys are not shown again) and tests the connection; the
// page is looked at on a tablet both ways and on a phone.
func TestAdminSetsUpWeChatPayOnThePage(t *testing.T) {
	wx, ap := fakewechat.New(), fakealipay.New()
	t.Cleanup(wx.Close)
	t.Cleanup(ap.Close)
	p := newPOSEnv(t, 5, func(c *web.Config) { c.WeChatPayHost, c.AlipayGateway = wx.URL, ap.URL })
	admin := p.Users[identity.Admin]
	b := browser(t)
	ctx, cancel := context.WithTimeout(b, 60*time.Second)
	defer cancel()
	s := wx.Settings()
	page := p.URL + "/admin/" + p.Com.ID + "/payments"
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(p.URL+"/login"), chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", admin.Login), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"), chromedp.WaitVisible("#home-links"),
		chromedp.Navigate(page), chromedp.WaitVisible("#wechatpay-form"))
	if err != nil {
		screenshot(t, b, "payments-failed")
		t.Fatal(err)
	}
	screenshot(t, b, "payments-empty-1280x800")
	err = chromedp.Do(ctx,
		chromedp.SetValue("#wx-mchid", s.MchID), chromedp.SetValue("#wx-appid", s.AppID), chromedp.SetValue("#wx-serial", s.SerialNo),
		chromedp.SetValue("#wx-key", s.PrivateKeyPEM), chromedp.SetValue("#wx-v3", s.APIv3Key), chromedp.SetValue("#wx-pubid", s.PublicKeyID),
		chromedp.SetValue("#wx-pub", s.PublicKeyPEM), chromedp.Click("#wechatpay-save"), chromedp.WaitVisible("#wechatpay-done"),
		chromedp.Click("#wechatpay-test-button"), chromedp.WaitVisible("#wechatpay-test"))
	if err != nil {
		screenshot(t, b, "payments-failed")
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text("#wechatpay-test"))
	if err != nil || !strings.Contains(msg, "连接正常") {
		t.Fatalf("test connection says %q (%v)", msg, err)
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if err != nil || strings.Contains(html, s.APIv3Key) || strings.Contains(html, "PRIVATE KEY") {
		t.Fatalf("the page shows a secret after saving (%v)", err)
	}
	for _, size := range [][2]int64{{1280, 800}, {800, 1280}, {390, 844}} {
		name := "payments-wechat-set-" + itoa(size[0]) + "x" + itoa(size[1])
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(page), chromedp.WaitVisible("#wechatpay-state")); err != nil {
			t.Fatal(err)
		}
		screenshot(t, b, name)
	}
	// An English reader sees the same page in English.
	if err := chromedp.Do(ctx, chromedp.Navigate(p.URL+"/lang/en"), chromedp.Navigate(page), chromedp.WaitVisible("#wechatpay-state")); err != nil {
		t.Fatal(err)
	}
	if st, err := chromedp.Run(ctx, chromedp.Text("h1")); err != nil || !strings.Contains(st, "Payment accounts") {
		t.Fatalf("english title %q %v", st, err)
	}
}

// The tablet sells with WeChat Pay and with Alipay against the fakes: the
// code appears, the customer pays in the fake wallet, the tablet shows the
// green tick; then a refund from the tablet (second PIN) goes back to the
// fake wallet through the outbox.
func TestTabletSellsWithWeChatPayAndAlipayAndRefunds(t *testing.T) {
	p, wx, ap := realProviders(t)
	tab := tabletSignedIn(t, p)
	lastRef := func() string {
		var ref string
		if err := p.DB.Get(&ref, `SELECT merchant_ref FROM payments WHERE community_id=$1 ORDER BY created_at DESC LIMIT 1`, p.Com.ID); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	// The sell screen with the community's two providers, at the tablet's
	// two orientations and on a phone.
	do(t, tab, "buttons", chromedp.WaitVisible("#pay-wechatpay"), chromedp.WaitVisible("#pay-alipay"), chromedp.Click("#tile-MDS-6"))
	for _, size := range [][2]int64{{800, 1280}, {390, 844}, {1280, 800}} {
		do(t, tab, "resize", chromedp.EmulateViewport(size[0], size[1]))
		time.Sleep(200 * time.Millisecond)
		screenshot(t, tab, "pos-sell-providers-"+itoa(size[0])+"x"+itoa(size[1]))
	}
	do(t, tab, "clear", chromedp.Click("#cart-clear"))
	for _, tc := range []struct {
		provider string
		pay      func(string) error
	}{{"wechatpay", func(r string) error { return wx.Pay(r, false) }}, {"alipay", func(r string) error { return ap.Pay(r, false) }}} {
		do(t, tab, tc.provider+" qr", chromedp.WaitVisible("#pay-"+tc.provider), chromedp.Click("#tile-MDS-6"), chromedp.Click("#pay-"+tc.provider),
			chromedp.WaitVisible("#qr-img"), chromedp.Poll[chromedp.Void](`document.querySelector('#qr-img').naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second)))
		screenshot(t, tab, "pos-"+tc.provider+"-qr-1280x800")
		if err := tc.pay(lastRef()); err != nil {
			t.Fatal(err)
		}
		do(t, tab, tc.provider+" paid", chromedp.WaitVisible("#paid-tick"))
		screenshot(t, tab, "pos-"+tc.provider+"-paid-1280x800")
		do(t, tab, tc.provider+" next", chromedp.Click("#next-customer"), chromedp.WaitNotVisible("#overlay"))
	}
	aliRef := lastRef()
	admin := p.Users[identity.Admin]
	do(t, tab, "recent", chromedp.Click("#menu-recent"), chromedp.WaitVisible("#recent-list button"), chromedp.Click("#recent-list button"),
		chromedp.WaitVisible("#refund-start"), chromedp.Click("#refund-start"), chromedp.WaitVisible("#refund-approver"),
		chromedp.SetValue("#refund-approver", admin.ID))
	// The sheet starts with the whole sale (one box) to give back.
	do(t, tab, "refund", chromedp.Click("#rpin-2"), chromedp.Click("#rpin-4"), chromedp.Click("#rpin-6"), chromedp.Click("#rpin-8"),
		chromedp.Click("#rpin-ok"), chromedp.WaitVisible("#refund-done"))
	screenshot(t, tab, "pos-alipay-refund-1280x800")
	var refundID string
	if err := p.DB.Get(&refundID, `SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.merchant_ref=$1`, aliRef); err != nil {
		t.Fatal(err)
	}
	if err := p.Srv.POS().SubmitRefund(context.Background(), p.Com.ID, refundID); err != nil { // the outbox job
		t.Fatal(err)
	}
	if got := ap.RefundedTotal(aliRef); got != 3800 {
		t.Fatalf("the Alipay wallet got back %d fen, want 3800", got)
	}
}

// WeChat Pay is slow to answer when the sale is made: the tablet says the
// code is being made; the durable job creates it and the code reaches the
// tablet over the sale's event stream; the customer pays.
func TestTabletGetsALateWeChatCodeOverTheEventStream(t *testing.T) {
	p, wx, _ := realProviders(t)
	tab := tabletSignedIn(t, p)
	wx.SetFailNext(1) // the request's own create fails (HTTP 500)
	do(t, tab, "qr", chromedp.WaitVisible("#pay-wechatpay"), chromedp.Click("#tile-MDS-6"), chromedp.Click("#pay-wechatpay"),
		chromedp.WaitVisible("#qr-status"))
	msg, err := chromedp.Run(tab, chromedp.Text("#qr-status"))
	if err != nil || !strings.Contains(msg, "正在生成付款码") {
		t.Fatalf("while the code is made the tablet says %q (%v)", msg, err)
	}
	screenshot(t, tab, "pos-wechatpay-creating-1280x800")
	var payID, ref string
	if err := p.DB.QueryRow(`SELECT id, merchant_ref FROM payments WHERE community_id=$1 ORDER BY created_at DESC LIMIT 1`, p.Com.ID).Scan(&payID, &ref); err != nil {
		t.Fatal(err)
	}
	if err := p.Srv.POS().CreateRemotePayment(context.Background(), p.Com.ID, payID); err != nil { // the job
		t.Fatal(err)
	}
	do(t, tab, "code arrives", chromedp.Poll[chromedp.Void](`document.querySelector('#qr-img').naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second)))
	if msg, _ := chromedp.Run(tab, chromedp.Text("#qr-status")); !strings.Contains(msg, "扫码") {
		t.Fatalf("after the code arrived the tablet says %q", msg)
	}
	if err := wx.Pay(ref, false); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "paid", chromedp.WaitVisible("#paid-tick"))
}
