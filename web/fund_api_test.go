package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
	"shelin/internal/money"
)

// postSale puts a sale's proceeds into the env's fund through the fund
// package (the checkout does the same inside its own transaction). The money
// arrives in WeChat Pay's clearing account: real money, counted publicly.
func (e *env) postSale(id, gross, cost string) fund.Posted {
	e.t.Helper()
	return e.postSaleVia(fund.ProviderClearing("wechatpay"), id, gross, cost)
}

func (e *env) postSaleVia(debit fund.AccountRef, id, gross, cost string) fund.Posted {
	e.t.Helper()
	var p fund.Posted
	err := db.InTx(context.Background(), e.DB, func(tx *sqlx.Tx) (err error) {
		p, err = fund.New(e.DB).PostProceeds(context.Background(), tx, fund.Proceeds{CommunityID: e.Com.ID, SourceKind: fund.SourceSale,
			SourceID: id, SourceRef: "WH-" + id, DebitAccount: debit,
			Gross: money.MustParse(gross), SupplierCost: money.MustParse(cost)})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// bankIn moves money into the bank (the 邻长 deposits collected cash, the
// provider settles) so that disbursements can be paid from it.
func (e *env) bankIn(from fund.AccountRef, amount string) {
	e.t.Helper()
	err := db.InTx(context.Background(), e.DB, func(tx *sqlx.Tx) error {
		_, err := fund.New(e.DB).PostTransfer(context.Background(), tx, fund.Transfer{CommunityID: e.Com.ID, SourceKind: "bank_deposit",
			SourceID: fmt.Sprintf("%s-%s-%d", from.Kind, amount, time.Now().UnixNano()), Debit: fund.Bank(), Credit: from, Amount: money.MustParse(amount)})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestFundAPIFromRulesToTrace(t *testing.T) {
	e := newEnv(t)
	admin, treasurer, leader, volunteer := e.Tokens["admin"], e.Tokens["treasurer"], e.Tokens["leader"], e.Tokens["volunteer"]

	st, body := e.call("GET", e.c()+"/fund", treasurer, nil)
	if st != 200 || body["balance"] != "0.00" {
		t.Fatalf("empty fund: %d %v", st, body)
	}
	// Rules: percents must sum to 100; a bad PUT stores nothing.
	for _, bad := range []string{
		`{"earmarks":[{"name":"养老","percent":"60"},{"name":"general","percent":"30"}]}`,
		`{"earmarks":[{"name":"养老","percent":"110"},{"name":"general","percent":"-10"}]}`,
		`{"earmarks":[]}`,
	} {
		if st, body := e.call("PUT", e.c()+"/fund/rules", admin, bad); st != 422 {
			t.Fatalf("rules %s: %d %v", bad, st, body)
		}
	}
	if st, _ := e.call("PUT", e.c()+"/fund/rules", treasurer, `{"earmarks":[{"name":"general","percent":"100"}]}`); st != 403 {
		t.Fatalf("treasurer set rules: %d", st)
	}
	st, body = e.call("PUT", e.c()+"/fund/rules", admin, `{"earmarks":[{"name":"养老","percent":"30"},{"name":"general","percent":"70"}]}`)
	if st != 200 || body["version"] != float64(1) {
		t.Fatalf("rules: %d %v", st, body)
	}
	s1 := e.postSale("s1", "100.00", "40.00") // 60: 18 养老 + 42 general
	e.postSale("s2", "50.00", "10.00")        // 40: 12 + 28
	st, body = e.call("GET", e.c()+"/fund", treasurer, nil)
	if body["balance"] != "100.00" || body["inflow_total"] != "100.00" {
		t.Fatalf("fund after sales: %v", body)
	}

	// A project: proposed by the 邻长, approved by the admin.
	if st, body := e.call("POST", e.c()+"/projects", volunteer, map[string]string{"title": "x", "budget": "1.00", "fund_share": "1.00"}); st != 403 {
		t.Fatalf("volunteer proposed: %d %v", st, body)
	}
	st, body = e.call("POST", e.c()+"/projects", leader, `{"title":"共筑晴窗","budget":12,"fund_share":"5"}`)
	if st != 422 || errorOf(body)["field"] != "budget" {
		t.Fatalf("budget as a JSON number: %d %v", st, body)
	}
	st, body = e.call("POST", e.c()+"/projects", leader, map[string]string{"title": "共筑晴窗", "budget": "300.00", "fund_share": "80.00", "purpose": "养老"})
	if st != 201 {
		t.Fatalf("propose: %d %v", st, body)
	}
	pid := body["id"].(string)
	st, body = e.call("POST", e.c()+"/projects", leader, map[string]string{"title": "太贵的项目", "budget": "300.00", "fund_share": "200.00"})
	big := body["id"].(string)
	if st, _ := e.call("POST", e.c()+"/projects/"+pid+"/approve", treasurer, nil); st != 403 {
		t.Fatalf("treasurer approved: %d", st)
	}
	if st, body := e.call("POST", e.c()+"/projects/"+big+"/approve", admin, nil); st != 409 {
		t.Fatalf("approval the fund cannot cover: %d %v", st, body)
	}
	st, body = e.call("POST", e.c()+"/projects/"+pid+"/approve", admin, nil)
	if st != 200 || body["status"] != "approved" || body["fund_committed"] != "80.00" {
		t.Fatalf("approve: %d %v", st, body)
	}

	// Residents' contributions: Idempotency-Key required, replayed exactly.
	path := e.c() + "/projects/" + pid + "/contributions"
	contribution := map[string]string{"amount": "150.00", "method": "cash", "contributor": "李阿姨", "receipt_no": "WHL-0001"}
	if st, body := e.call("POST", path, leader, contribution); st != 422 || errorOf(body)["field"] != "Idempotency-Key" {
		t.Fatalf("without a key: %d %v", st, body)
	}
	st1, raw1 := e.raw("POST", path, leader, contribution, "Idempotency-Key", "k1")
	st2, raw2 := e.raw("POST", path, leader, contribution, "Idempotency-Key", "k1")
	if st1 != 201 || st2 != 201 || !bytes.Equal(raw1, raw2) {
		t.Fatalf("contribution and its replay: %d %s / %d %s", st1, raw1, st2, raw2)
	}
	contribution["amount"] = "70.00"
	if st, _ := e.call("POST", path, leader, contribution, "Idempotency-Key", "k1"); st != 409 {
		t.Fatalf("same key, other body: %d", st)
	}
	contribution["receipt_no"] = "WHL-0002"
	st, body = e.call("POST", path, leader, contribution, "Idempotency-Key", "k2")
	if st != 201 || body["project"].(map[string]any)["status"] != "funded" {
		t.Fatalf("last contribution: %d %v", st, body)
	}

	// Disbursements: never more than the project holds, nor than the bank
	// holds; then a voucher.
	dpath := e.c() + "/projects/" + pid + "/disbursements"
	st, body = e.call("POST", dpath, treasurer, map[string]string{"amount": "180.00", "payee": "玻璃店", "memo": "玻璃"}, "Idempotency-Key", "d-early")
	if st != 409 || errorOf(body)["message"] != "the bank account holds ¥0.00; it cannot pay ¥180.00" {
		t.Fatalf("disbursement before the money reached the bank: %d %v", st, body)
	}
	e.bankIn(fund.Contributions("cash"), "220.00") // the 邻长 deposits the residents' cash
	if st, body := e.call("POST", dpath, treasurer, map[string]string{"amount": "300.01", "payee": "玻璃店", "memo": "玻璃"}, "Idempotency-Key", "d0"); st != 409 {
		t.Fatalf("overdraw: %d %v", st, body)
	}
	if st, body := e.call("POST", dpath, treasurer, map[string]string{"amount": "-1.00", "payee": "玻璃店"}, "Idempotency-Key", "d00"); st != 422 {
		t.Fatalf("negative disbursement: %d %v", st, body)
	}
	st, body = e.call("POST", dpath, treasurer, map[string]string{"amount": "180.00", "payee": "玻璃店", "memo": "玻璃"}, "Idempotency-Key", "d1")
	if st != 201 {
		t.Fatalf("disburse: %d %v", st, body)
	}
	did := body["id"].(string)
	if st := e.upload("PUT", e.c()+"/disbursements/"+did+"/voucher", treasurer, "image", tinyPNG()); st != 200 {
		t.Fatalf("voucher upload: %d", st)
	}
	st, img := e.raw("GET", e.c()+"/disbursements/"+did+"/voucher", treasurer, nil)
	if st != 200 || !bytes.HasPrefix(img, []byte("\x89PNG")) {
		t.Fatalf("voucher: %d", st)
	}
	st, body = e.call("GET", e.c()+"/projects/"+pid, volunteer, nil)
	for k, want := range map[string]string{"budget": "300.00", "fund_share": "80.00", "fund_committed": "80.00", "crowdfunded": "220.00", "disbursed": "180.00", "status": "funded"} {
		if body[k] != want {
			t.Errorf("project %s = %v, want %s", k, body[k], want)
		}
	}

	// Tracing both ways adds up.
	st, body = e.call("GET", e.c()+"/trace/sales/s1", volunteer, nil)
	if st != 200 || body["net_proceeds"] != "60.00" {
		t.Fatalf("trace sale: %d %v", st, body)
	}
	sum := money.Zero
	for _, l := range body["lots"].([]any) {
		sum = sum.Add(money.MustParse(l.(map[string]any)["amount"].(string)))
	}
	if sum.String() != "60.00" {
		t.Fatalf("lots of s1 sum to %s", sum)
	}
	st, body = e.call("GET", e.c()+"/trace/projects/"+pid, volunteer, nil)
	if body["from_fund"] != "80.00" || body["from_residents"] != "220.00" {
		t.Fatalf("trace project: %v", body)
	}
	sum = money.Zero
	for _, s := range body["sources"].([]any) {
		sum = sum.Add(money.MustParse(s.(map[string]any)["amount"].(string)))
	}
	if sum.String() != "80.00" {
		t.Fatalf("project sources sum to %s", sum)
	}

	// The ledger: pages, CSV with BOM, verify.
	st, body = e.call("GET", e.c()+"/ledger/entries?limit=2", treasurer, nil)
	if st != 200 || len(body["items"].([]any)) != 2 || body["next_cursor"] == nil {
		t.Fatalf("entries: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/ledger/entries?limit=2&cursor="+body["next_cursor"].(string), treasurer, nil)
	if st != 200 || len(body["items"].([]any)) != 2 {
		t.Fatalf("entries page 2: %d %v", st, body)
	}
	if st, _ := e.call("GET", e.c()+"/ledger/entries", volunteer, nil); st != 403 {
		t.Fatalf("volunteer read the ledger: %d", st)
	}
	st, csv := e.raw("GET", e.c()+"/ledger/entries.csv?from=2000-01-01", treasurer, nil)
	if st != 200 || !bytes.HasPrefix(csv, []byte("\xef\xbb\xbf日期时间")) || !strings.Contains(string(csv), "基金") {
		t.Fatalf("csv: %d %q", st, csv[:min(80, len(csv))])
	}
	st, body = e.call("GET", e.c()+"/ledger/verify", treasurer, nil)
	if st != 200 || body["ok"] != true || body["entries"].(float64) < 5 {
		t.Fatalf("verify: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/ledger/accounts", treasurer, nil)
	if st != 200 || len(body["items"].([]any)) < 5 {
		t.Fatalf("accounts: %d %v", st, body)
	}

	// Public, no sign-in: the data, the page and a receipt's trace.
	st, body = e.call("GET", "/api/v1/public/"+e.Com.Slug+"/fund", "", nil)
	if st != 200 || body["headline"].(map[string]any)["projects_landed"] != float64(1) {
		t.Fatalf("public fund: %d %v", st, body)
	}
	st, page := e.raw("GET", "/c/"+e.Com.Slug, "", nil)
	if st != 200 || !strings.Contains(string(page), "共筑晴窗") || strings.Contains(string(page), "李阿姨") || strings.Contains(string(page), "玻璃店") {
		t.Fatalf("transparency page: %d (must show projects, never contributors or payees)", st)
	}
	st, page = e.raw("GET", "/t/"+s1.TraceToken, "", nil)
	if st != 200 || !strings.Contains(string(page), "共筑晴窗") {
		t.Fatalf("trace page: %d", st)
	}
	if st, _ := e.raw("GET", "/t/"+strings.Repeat("0", 32), "", nil); st != 404 {
		t.Fatalf("unknown trace token: %d", st)
	}
}

// upload sends one file as multipart form data.
func (e *env) upload(method, path, token, field string, data []byte) int {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile(field, "voucher.png")
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest(method, e.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func tinyPNG() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4)))
	return buf.Bytes()
}

// A cash donation handed to the community office arrives in residents'
// collected money (it used to be refused with 422).
func TestDonationCashAndBank(t *testing.T) {
	e := newEnv(t)
	treasurer := e.Tokens["treasurer"]
	st, body := e.call("POST", e.c()+"/donations", treasurer, map[string]string{"amount": "200.00", "method": "cash", "donor": "牡丹茶社"}, "Idempotency-Key", "don-cash")
	if st != 201 || body["amount"] != "200.00" || !strings.HasPrefix(body["trace_url"].(string), "/t/") {
		t.Fatalf("cash donation: %d %v", st, body)
	}
	st, body = e.call("POST", e.c()+"/donations", treasurer, map[string]string{"amount": "50.00", "method": "bank"}, "Idempotency-Key", "don-bank")
	if st != 201 || body["amount"] != "50.00" {
		t.Fatalf("bank donation: %d %v", st, body)
	}
	if st, body := e.call("POST", e.c()+"/donations", treasurer, map[string]string{"amount": "5.00", "method": "gold"}, "Idempotency-Key", "don-x"); st != 422 {
		t.Fatalf("unknown method: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/ledger/accounts", treasurer, nil)
	if st != 200 {
		t.Fatalf("accounts: %d %v", st, body)
	}
	got := map[string]string{}
	for _, a := range body["items"].([]any) {
		a := a.(map[string]any)
		got[a["kind"].(string)+":"+a["key"].(string)] = a["balance"].(string)
	}
	if got["contributions:cash"] != "200.00" || got["bank:"] != "50.00" || got["fund_earmark:general"] != "250.00" {
		t.Fatalf("accounts after donations: %v", got)
	}
	if st, body := e.call("GET", e.c()+"/ledger/verify", treasurer, nil); st != 200 || body["ok"] != true {
		t.Fatalf("verify: %d %v", st, body)
	}
}

// Residents' money is given back when a project is rejected, once, and only
// by the fund's managers; an approved project keeps it.
func TestProjectContributionRefund(t *testing.T) {
	e := newEnv(t)
	admin, treasurer, leader := e.Tokens["admin"], e.Tokens["treasurer"], e.Tokens["leader"]
	e.postSale("s1", "100.00", "0")
	propose := func(title string) string {
		st, body := e.call("POST", e.c()+"/projects", leader, map[string]string{"title": title, "budget": "300.00", "fund_share": "50.00"})
		if st != 201 {
			t.Fatalf("propose: %d %v", st, body)
		}
		return body["id"].(string)
	}
	give := func(pid, key string) string {
		st, body := e.call("POST", e.c()+"/projects/"+pid+"/contributions", leader,
			map[string]string{"amount": "40.00", "method": "cash", "contributor": "李阿姨", "receipt_no": key}, "Idempotency-Key", key)
		if st != 201 {
			t.Fatalf("contribution: %d %v", st, body)
		}
		return body["id"].(string)
	}
	pid := propose("邻里文化墙")
	kid := give(pid, "WHL-1")
	if st, body := e.call("POST", e.c()+"/projects/"+pid+"/reject", admin, nil); st != 200 {
		t.Fatalf("reject: %d %v", st, body)
	}
	path := e.c() + "/projects/" + pid + "/contributions/" + kid + "/refund"
	if st, _ := e.call("POST", path, leader, nil); st != 403 {
		t.Fatalf("a 邻长 refunded: %d", st)
	}
	st, body := e.call("POST", path, treasurer, nil)
	if st != 200 || body["amount"] != "40.00" || body["project"].(map[string]any)["crowdfunded"] != "0.00" {
		t.Fatalf("refund: %d %v", st, body)
	}
	entry := body["entry_id"]
	st, body = e.call("POST", path, treasurer, nil)
	if st != 200 || body["entry_id"] != entry {
		t.Fatalf("refund again: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/projects/"+pid+"/contributions", treasurer, nil)
	if st != 200 || body["items"].([]any)[0].(map[string]any)["refunded_at"] == nil {
		t.Fatalf("contributions after the refund: %d %v", st, body)
	}
	if st, _ := e.call("POST", e.c()+"/projects/"+pid+"/contributions/00000000-0000-4000-8000-000000000000/refund", treasurer, nil); st != 404 {
		t.Fatalf("unknown contribution: %d", st)
	}
	qid := propose("楼道灯")
	k2 := give(qid, "WHL-2")
	if st, body := e.call("POST", e.c()+"/projects/"+qid+"/approve", admin, nil); st != 200 {
		t.Fatalf("approve: %d %v", st, body)
	}
	if st, body := e.call("POST", e.c()+"/projects/"+qid+"/contributions/"+k2+"/refund", treasurer, nil); st != 409 {
		t.Fatalf("refund from an approved project: %d %v", st, body)
	}
	if st, body := e.call("GET", e.c()+"/ledger/verify", treasurer, nil); st != 200 || body["ok"] != true {
		t.Fatalf("verify: %d %v", st, body)
	}
}

// Sandbox money is marked in the ledger and left out of the public figures.
func TestPublicFundLeavesOutSimulatedMoney(t *testing.T) {
	e := newEnv(t)
	treasurer := e.Tokens["treasurer"]
	e.postSale("real", "100.00", "40.00")                                      // 60 real
	e.postSaleVia(fund.ProviderClearing("sandbox"), "sim", "500.00", "100.00") // 400 simulated
	st, body := e.call("GET", "/api/v1/public/"+e.Com.Slug+"/fund", "", nil)
	if st != 200 || body["headline"].(map[string]any)["fund_injected"] != "60.00" || body["fund"].(map[string]any)["balance"] != "60.00" {
		t.Fatalf("public fund counts sandbox money: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/fund", treasurer, nil)
	if st != 200 || body["inflow_total"] != "460.00" {
		t.Fatalf("the treasurer's fund: %d %v", st, body)
	}
	st, body = e.call("GET", e.c()+"/ledger/entries", treasurer, nil)
	if st != 200 {
		t.Fatalf("entries: %d %v", st, body)
	}
	sim := map[string]any{}
	for _, it := range body["items"].([]any) {
		it := it.(map[string]any)
		sim[it["source_id"].(string)] = it["simulated"]
	}
	if sim["real"] != false || sim["sim"] != true {
		t.Fatalf("simulated flags in the ledger API: %v", sim)
	}
	st, page := e.raw("GET", "/c/"+e.Com.Slug, "", nil)
	if st != 200 || strings.Contains(string(page), "460.00") || !strings.Contains(string(page), "60.00") {
		t.Fatalf("transparency page: %d", st)
	}
}

var _ = fmt.Sprint
