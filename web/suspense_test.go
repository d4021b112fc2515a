package web_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shelin/identity"
)

func (p *posEnv) uploadStaticQR() {
	p.t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
		p.t.Fatal(err)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, err := mw.CreateFormFile("image", "qr.png")
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := fw.Write(img.Bytes()); err != nil {
		p.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest("PUT", p.URL+p.c()+"/payment-settings/static", &form)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+p.Tokens[identity.Admin])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		p.t.Fatalf("upload 收款码: %d", res.StatusCode)
	}
}

// heldStaticSale sells one pastry on the 收款码, cancels the sale, and then
// has the volunteer confirm the money: it is held, not refused.
func (p *posEnv) heldStaticSale(key string) (saleID, suspenseID string) {
	p.t.Helper()
	vol := p.Tokens[identity.Volunteer]
	st, sale := p.sale(key, map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "static"}})
	if st != 201 {
		p.t.Fatalf("static sale %d %v", st, sale)
	}
	id := sale["id"].(string)
	if st, b := p.call("POST", p.c()+"/sales/"+id+"/cancel", vol, map[string]any{}); st != 200 || b["status"] != "cancelled" {
		p.t.Fatalf("cancel %d %v", st, b)
	}
	st, b := p.call("POST", p.c()+"/sales/"+id+"/confirm-static", vol, map[string]any{})
	held, _ := b["held"].(map[string]any)
	if st != 200 || b["status"] != "cancelled" || held == nil || held["reason"] != "after_cancelled" || held["amount"] != "38.00" {
		p.t.Fatalf("confirm after cancel: %d %v", st, b)
	}
	return id, held["id"].(string)
}

// Money confirmed after its sale was cancelled is held for the treasurer,
// who completes the sale (the pastry is still there) or gives it back.
func TestHeldMoneyOverHTTP(t *testing.T) {
	p := newPOSEnv(t, 5)
	p.uploadStaticQR()
	tre := p.Tokens[identity.Treasurer]
	saleID, heldID := p.heldStaticSale("held-1")
	st, list := p.call("GET", p.c()+"/suspense?open=true", tre, nil)
	items, _ := list["items"].([]any)
	if st != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != heldID {
		t.Fatalf("suspense list %d %v", st, list)
	}
	if st, _ := p.call("GET", p.c()+"/suspense", p.Tokens[identity.Volunteer], nil); st != 403 {
		t.Fatalf("a volunteer reads the suspense list: %d", st)
	}
	st, done := p.call("POST", p.c()+"/suspense/"+heldID+"/complete", tre, map[string]any{}, "Idempotency-Key", "complete-1")
	if st != 200 || done["status"] != "paid" || done["id"] != saleID || done["fund_amount"] != "18.00" {
		t.Fatalf("complete %d %v", st, done)
	}
	if st, again := p.call("POST", p.c()+"/suspense/"+heldID+"/complete", tre, map[string]any{}, "Idempotency-Key", "complete-1"); st != 200 || again["status"] != "paid" {
		t.Fatalf("replay %d %v", st, again)
	}
	// The refusal names its message in the catalogue: the reader sees it in
	// Chinese (display), the API keeps its English message.
	if st, b := p.call("POST", p.c()+"/suspense/"+heldID+"/refund", tre, map[string]any{}, "Idempotency-Key", "refund-1"); st != 409 ||
		errorOf(b)["display"] != "这笔暂挂的到账已经处理过了（已完成销售）。" {
		t.Fatalf("refunding completed money: %d %v", st, b)
	}
	_, held2 := p.heldStaticSale("held-2")
	st, r := p.call("POST", p.c()+"/suspense/"+held2+"/refund", tre, map[string]any{}, "Idempotency-Key", "refund-2")
	if st != 202 || r["status"] != "refunded" {
		t.Fatalf("refund held static money %d %v", st, r)
	}
	if st, v := p.call("GET", p.c()+"/ledger/verify", tre, nil); st != 200 || v["ok"] != true {
		t.Fatalf("verify %d %v", st, v)
	}
}

// The treasurer's page of held money, at every size, in Chinese; giving the
// money back needs the statement checked first.
func TestHeldMoneyPage(t *testing.T) {
	p := newPOSEnv(t, 5)
	p.uploadStaticQR()
	p.heldStaticSale("page-1")
	tre := p.Users[identity.Treasurer]
	b := browser(t)
	ctx, cancel := context.WithTimeout(b, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(p.URL+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", tre.Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		chromedp.Click(`#home-links a[href$="/suspense"]`),
		chromedp.WaitVisible("#susp-table"))
	if err != nil {
		screenshot(t, b, "suspense-failed")
		t.Fatal(err)
	}
	for _, sz := range []struct {
		w, h int64
		name string
	}{{1280, 800, "1280x800"}, {800, 1280, "800x1280"}, {390, 844, "390x844"}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(sz.w, sz.h)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, b, "suspense-"+sz.name)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#susp-table"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"取消后才付款", "¥38.00", "收款码", "退给顾客", "完成这笔销售"} {
		if !bytes.Contains([]byte(text), []byte(want)) {
			t.Errorf("the held-money table lacks %q: %s", want, text)
		}
	}
	// Without the tick the browser refuses to send; with it the money goes back.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Click(`#susp-table input[name="checked"]`),
		chromedp.Click(`#susp-table button.danger`),
		chromedp.WaitVisible("#susp-done"))
	if err != nil {
		screenshot(t, b, "suspense-refund-failed")
		t.Fatal(err)
	}
	screenshot(t, b, "suspense-refunded-1280x800")
	status, err := chromedp.Run(ctx, chromedp.Text("#susp-table"))
	if err != nil || !bytes.Contains([]byte(status), []byte("已退款")) {
		t.Fatalf("after the refund: %q %v", status, err)
	}
}
