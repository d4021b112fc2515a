package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"shelin/identity"
	"shelin/internal/money"
	"shelin/reconcile"
)

// uploadStatement posts a statement file as multipart and returns the status and body.
func (e *env) uploadStatement(token, provider, name string, data []byte) (int, string) {
	e.t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	if err := mw.WriteField("provider", provider); err != nil {
		e.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		e.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.URL+e.c()+"/statements", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The API of "Reconciliation and day close": a cash day with a shift, a
// statement upload in each format with a row Shelin does not know, the
// issue resolved, the close, the 409 day_closed afterwards, the CSV, the
// Z-report and its chain, and reopening by an admin only.
func TestDayAPICloseAndLock(t *testing.T) {
	p := newPOSEnv(t, 10)
	vol, tres, admin := p.Tokens[identity.Volunteer], p.Tokens[identity.Treasurer], p.Tokens[identity.Admin]
	loc := p.Com.Location()
	today := reconcile.Today(time.Now(), loc)
	st, sh := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "50"})
	if st != 201 {
		t.Fatalf("shift %d %v", st, sh)
	}
	if st, s := p.sale("d-1", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 2}},
		"payment": map[string]any{"method": "cash", "tendered": "100"}}); st != 201 {
		t.Fatalf("sale %d %v", st, s)
	}
	st, day := p.call("GET", p.c()+"/days/"+today, tres, nil)
	if st != 200 || day["status"] != "open" {
		t.Fatalf("day %d %v", st, day)
	}
	sales := day["sales"].(map[string]any)
	if sales["count"] != float64(1) || sales["gross"] != "76.00" || sales["by_method"].(map[string]any)["cash"] != "76.00" {
		t.Fatalf("sales %v", sales)
	}
	for _, k := range []string{"matched", "missing_in_statement", "missing_in_shelin", "amount_mismatch"} {
		if _, ok := day["statements"].(map[string]any)[k]; !ok {
			t.Fatalf("statements without %s: %v", k, day["statements"])
		}
	}
	// The open shift blocks the close.
	if st, b := p.call("POST", p.c()+"/days/"+today+"/close", tres, nil); st != 409 || errorOf(b)["code"] != "conflict" {
		t.Fatalf("close with an open shift: %d %v", st, b)
	}
	if st, b := p.call("POST", p.c()+"/shifts/"+sh["id"].(string)+"/close", vol, map[string]any{"counted_cash": "126.00"}); st != 200 {
		t.Fatalf("shift close %d %v", st, b)
	}
	// Statements: a WeChat bill and an Alipay export (GBK) each with one row Shelin does not know.
	row := reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: "UNKNOWN00000001", TxnID: "4200000001", Amount: money.MustParse("9.90"), Fee: money.MustParse("0.06"), At: time.Now()}
	if st, b := p.uploadStatement(tres, "wechatpay", "wx.csv", reconcile.WriteWeChat([]reconcile.Row{row}, loc)); st != 201 || !strings.Contains(b, `"rows":1`) || !strings.Contains(b, `"unmatched":1`) {
		t.Fatalf("wechat upload %d %s", st, b)
	}
	if st, b := p.uploadStatement(tres, "alipay", "ali.csv", reconcile.WriteAlipay([]reconcile.Row{row}, loc, today)); st != 201 || !strings.Contains(b, `"unmatched":1`) {
		t.Fatalf("alipay upload %d %s", st, b)
	}
	if st, b := p.uploadStatement(tres, "wechatpay", "bad.csv", []byte("not,a,bill\n")); st != 422 {
		t.Fatalf("a bad file %d %s", st, b)
	}
	if st, b := p.uploadStatement(vol, "wechatpay", "wx.csv", []byte("x")); st != 403 && st != 404 {
		t.Fatalf("a volunteer uploading: %d %s", st, b)
	}
	_, day = p.call("GET", p.c()+"/days/"+today, tres, nil)
	if day["statements"].(map[string]any)["missing_in_shelin"] != float64(2) {
		t.Fatalf("statements %v", day["statements"])
	}
	for _, is := range day["issues"].([]any) {
		is := is.(map[string]any)
		if is["status"] != "open" {
			continue
		}
		if st, b := p.call("POST", p.c()+"/days/"+today+"/issues", tres, map[string]any{"issue_key": is["key"], "action": "acknowledged",
			"note": "a 收款码 payment of another community account"}); st != 201 {
			t.Fatalf("resolve %v: %d %v", is, st, b)
		}
	}
	st, b := p.call("POST", p.c()+"/days/"+today+"/close", tres, nil)
	if st != 200 || b["status"] != "closed" {
		t.Fatalf("close %d %v", st, b)
	}
	// Writes dated the closed day answer 409 day_closed.
	if st, b := p.call("POST", p.c()+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "50"}); st != 409 || errorOf(b)["code"] != "day_closed" {
		t.Fatalf("a shift on a closed day: %d %v", st, b)
	}
	if st, b := p.sale("d-2", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.card, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "sandbox"}}); st != 409 || errorOf(b)["code"] != "day_closed" {
		t.Fatalf("a sale on a closed day: %d %v", st, b)
	}
	// CSV with a BOM, the Z-report as a page and as JSON, the chain.
	st, csv := p.raw("GET", p.c()+"/days/"+today+"/report.csv", tres, nil)
	if st != 200 || !bytes.HasPrefix(csv, []byte("\xef\xbb\xbf")) || !bytes.Contains(csv, []byte("76.00")) {
		t.Fatalf("csv %d %q", st, csv)
	}
	st, page := p.raw("GET", p.c()+"/days/"+today+"/z-report", tres, nil, "Accept", "text/html")
	if st != 200 || !bytes.Contains(page, []byte(`id="z-hash"`)) {
		t.Fatalf("z-report page %d", st)
	}
	st, z := p.call("GET", p.c()+"/days/"+today+"/z-report?format=json", tres, nil)
	if st != 200 || len(z["hash"].(string)) != 64 || z["version"] != float64(1) {
		t.Fatalf("z-report %d %v", st, z)
	}
	if st, v := p.call("GET", p.c()+"/z-reports/verify", tres, nil); st != 200 || v["ok"] != true || v["reports"] != float64(1) {
		t.Fatalf("chain %d %v", st, v)
	}
	// Reopening: admins only, with a reason.
	if st, _ := p.call("POST", p.c()+"/days/"+today+"/reopen", tres, map[string]any{"reason": "late count"}); st != 403 {
		t.Fatalf("a treasurer reopening: %d", st)
	}
	if st, b := p.call("POST", p.c()+"/days/"+today+"/reopen", admin, map[string]any{"reason": ""}); st != 422 {
		t.Fatalf("reopen without a reason: %d %v", st, b)
	}
	if st, b := p.call("POST", p.c()+"/days/"+today+"/reopen", admin, map[string]any{"reason": "late cash count"}); st != 200 || b["status"] != "open" {
		t.Fatalf("reopen %d %v", st, b)
	}
	if st, _ := p.call("GET", p.c()+"/days/2026-13-45", tres, nil); st != 422 {
		t.Fatalf("a bad date: %d", st)
	}
	if st, cal := p.call("GET", p.c()+"/days?from="+today+"&to="+today, tres, nil); st != 200 || len(cal["items"].([]any)) != 1 {
		t.Fatalf("calendar %d %v", st, cal)
	}
}
