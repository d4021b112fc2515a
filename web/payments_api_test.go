package web_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"shelin/identity"
	"shelin/orders/payment"
	"shelin/orders/payment/fakealipay"
	"shelin/orders/payment/fakewechat"
	"shelin/web"
)

// realProviders is a stall server whose WeChat Pay and Alipay calls go to
// loopback fakes (SHELIN_WECHATPAY_HOST, SHELIN_ALIPAY_GATEWAY), with the
// community's accounts entered by its admin over the API.
func realProviders(t *testing.T) (*posEnv, *fakewechat.Server, *fakealipay.Server) {
	t.Helper()
	wx, ap := fakewechat.New(), fakealipay.New()
	t.Cleanup(wx.Close)
	t.Cleanup(ap.Close)
	p := newPOSEnv(t, 10, func(c *web.Config) { c.WeChatPayHost, c.AlipayGateway = wx.URL, ap.URL })
	admin := p.Tokens[identity.Admin]
	if st, b := p.call("PUT", p.c()+"/payment-settings/wechatpay", admin, wx.Settings()); st != 200 || b["merchant_id"] != wx.MchID {
		t.Fatalf("put wechat settings: %d %v", st, b)
	}
	if st, b := p.call("PUT", p.c()+"/payment-settings/alipay", admin, ap.Settings()); st != 200 || b["app_id"] != ap.AppID {
		t.Fatalf("put alipay settings: %d %v", st, b)
	}
	return p, wx, ap
}

func TestPaymentSettingsAreSealedNeverShownAndTested(t *testing.T) {
	p, wx, ap := realProviders(t)
	admin, vol := p.Tokens[identity.Admin], p.Tokens[identity.Volunteer]
	st, list := p.raw("GET", p.c()+"/payment-settings", admin, nil)
	if st != 200 || !bytes.Contains(list, []byte(wx.MchID)) || !bytes.Contains(list, []byte("/api/v1/webhooks/wechatpay")) {
		t.Fatalf("list: %d %s", st, list)
	}
	for _, secret := range []string{"PRIVATE KEY", wx.APIv3Key, "PUBLIC KEY"} {
		if bytes.Contains(list, []byte(secret)) {
			t.Fatalf("the settings list shows a secret (%q)", secret)
		}
	}
	var sealed [][]byte
	if err := p.DB.Select(&sealed, `SELECT sealed FROM payment_merchants WHERE community_id=$1`, p.Com.ID); err != nil || len(sealed) != 2 {
		t.Fatalf("sealed rows: %d %v", len(sealed), err)
	}
	for _, s := range sealed {
		if bytes.Contains(s, []byte(wx.APIv3Key)) || bytes.Contains(s, []byte("PRIVATE KEY")) {
			t.Fatal("a secret is stored in clear")
		}
	}
	var leaked int
	if err := p.DB.Get(&leaked, `SELECT count(*) FROM audit_log WHERE community_id=$1 AND (after::text LIKE '%'||$2||'%' OR after::text LIKE '%PRIVATE KEY%')`,
		p.Com.ID, wx.APIv3Key); err != nil || leaked != 0 {
		t.Fatalf("the audit log keeps a secret: %d rows (%v)", leaked, err)
	}
	var audited int
	if err := p.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE community_id=$1 AND after::text LIKE '%'||$2||'%'`, p.Com.ID, wx.MchID); err != nil || audited == 0 {
		t.Fatalf("saving the settings was not audited (%d, %v)", audited, err)
	}
	for _, prov := range []string{"wechatpay", "alipay"} {
		if st, b := p.call("POST", p.c()+"/payment-settings/"+prov+"/test", admin, map[string]any{}); st != 200 || b["ok"] != true {
			t.Fatalf("test connection %s: %d %v", prov, st, b)
		}
	}
	// A wrong key fails the test, with the reason and without a secret.
	bad := wx.Settings()
	bad.PrivateKeyPEM = payment.PEMPrivateKey(fakewechat.Key(2))
	if st, b := p.call("PUT", p.c()+"/payment-settings/wechatpay", admin, bad); st != 200 {
		t.Fatalf("put: %d %v", st, b)
	}
	if st, b := p.call("POST", p.c()+"/payment-settings/wechatpay/test", admin, map[string]any{}); st != 200 || b["ok"] != false || b["message"] == "" {
		t.Fatalf("test with a wrong key: %d %v", st, b)
	}
	// Invalid settings name the field; a volunteer may not see or set them.
	short := wx.Settings()
	short.APIv3Key = "short"
	if st, b := p.call("PUT", p.c()+"/payment-settings/wechatpay", admin, short); st != 422 || errorOf(b)["field"] != "apiv3_key" {
		t.Fatalf("short APIv3 key: %d %v", st, b)
	}
	if st, _ := p.call("GET", p.c()+"/payment-settings", vol, nil); st != 403 {
		t.Fatalf("a volunteer reads payment settings: %d", st)
	}
	if st, b := p.call("GET", p.c()+"/pos/providers", vol, nil); st != 200 || !strings.Contains(strings.Join(anyStrings(b["providers"]), ","), "alipay,wechatpay") {
		t.Fatalf("tablet providers: %d %v", st, b)
	}
	_ = ap
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// A WeChat Pay and an Alipay sale over HTTP: the QR comes back with the
// sale, the customer pays in the fake wallet, the provider's signed
// notification reaches the webhook, the sale is paid; a refund goes back to
// the wallet through the outbox once.
func TestRealProviderSalesOverHTTP(t *testing.T) {
	p, wx, ap := realProviders(t)
	vol, admin := p.Tokens[identity.Volunteer], p.Users[identity.Admin]
	for _, tc := range []struct {
		provider, prefix string
		pay              func(ref string) error
		refunded         func(ref string) int64
	}{
		{"wechatpay", "weixin://wxpay/bizpayurl?pr=", func(ref string) error { return wx.Pay(ref, false) }, wx.RefundedTotal},
		{"alipay", "https://qr.alipay.com/", func(ref string) error { return ap.Pay(ref, false) }, ap.RefundedTotal},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			st, sale := p.sale("real-"+tc.provider, map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
				"payment": map[string]any{"method": "qr", "provider": tc.provider}})
			pay, _ := sale["payment"].(map[string]any)
			if st != 201 || sale["status"] != "awaiting_payment" || pay == nil || !strings.HasPrefix(str(pay["qr_payload"]), tc.prefix) || pay["qr_image_url"] == nil {
				t.Fatalf("sale: %d %v", st, sale)
			}
			ref := pay["merchant_ref"].(string)
			if err := tc.pay(ref); err != nil {
				t.Fatal(err)
			}
			id := sale["id"].(string)
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, got := p.call("GET", p.c()+"/sales/"+id, vol, nil)
				if got["status"] == "paid" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never paid: %v", got)
				}
				time.Sleep(100 * time.Millisecond)
			}
			token := p.mustApprove(vol, "refund", admin.ID, "2468")
			st, r := p.call("POST", p.c()+"/sales/"+id+"/refunds", vol, map[string]any{"lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
				"restock": true, "reason": "不要了", "approval_token": token}, "Idempotency-Key", "refund-"+tc.provider)
			if st != 201 || r["status"] != "pending" {
				t.Fatalf("refund: %d %v", st, r)
			}
			for i := 0; i < 3; i++ { // the outbox job, retried
				if err := p.Srv.POS().SubmitRefund(t.Context(), p.Com.ID, r["id"].(string)); err != nil {
					t.Fatal(err)
				}
			}
			if got := tc.refunded(ref); got != 3800 {
				t.Fatalf("the wallet got back %d fen, want 3800 once", got)
			}
		})
	}
	// A provider not set up answers 409 and sells nothing.
	if _, err := p.DB.Exec(`DELETE FROM payment_merchants WHERE community_id=$1 AND provider='alipay'`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	st, b := p.sale("no-alipay", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "alipay"}})
	if st != 409 {
		t.Fatalf("alipay without an account: %d %v", st, b)
	}
}

func str(v any) string { s, _ := v.(string); return s }

// A WeChat Pay payment that arrives after its sale expired is refunded by
// itself and the treasurer sees it on the held-money page.
func TestLatePaymentOverHTTPIsRefundedAndShownToTheTreasurer(t *testing.T) {
	p, wx, _ := realProviders(t)
	st, sale := p.sale("late-1", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "wechatpay"}})
	if st != 201 {
		t.Fatalf("sale %d %v", st, sale)
	}
	id, ref := sale["id"].(string), sale["payment"].(map[string]any)["merchant_ref"].(string)
	if _, err := p.DB.Exec(`UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id=$1`, id); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Srv.POS().ExpireSale(t.Context(), p.Com.ID, id); err != nil || !ok {
		t.Fatalf("expire: %v %v", ok, err)
	}
	if err := wx.Pay(ref, true); err != nil { // the wallet took it anyway
		t.Fatal(err)
	}
	var suspID string
	deadline := time.Now().Add(10 * time.Second)
	for suspID == "" {
		_ = p.DB.Get(&suspID, `SELECT s.id FROM payment_suspense s JOIN payments p ON p.id = s.payment_id WHERE p.merchant_ref=$1`, ref)
		if time.Now().After(deadline) {
			t.Fatal("the late payment was never held")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.Srv.POS().SubmitSuspenseRefund(t.Context(), p.Com.ID, suspID); err != nil { // the outbox job
		t.Fatal(err)
	}
	if got := wx.RefundedTotal(ref); got != 3800 {
		t.Fatalf("the wallet got back %d fen", got)
	}
	st, page := p.raw("GET", "/admin/"+p.Com.ID+"/suspense", p.Tokens[identity.Treasurer], nil)
	if st != 200 || !bytes.Contains(page, []byte("susp-auto-"+suspID)) || !bytes.Contains(page, []byte("已退款")) {
		t.Fatalf("held-money page: %d, auto marker shown: %v", st, bytes.Contains(page, []byte("susp-auto-")))
	}
}
