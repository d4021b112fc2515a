package reconcile_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/reconcile"
)

var cst = time.FixedZone("CST", 8*3600)

func sampleRows() []reconcile.Row {
	at := time.Date(2026, 11, 30, 10, 15, 0, 0, cst)
	return []reconcile.Row{
		{Kind: reconcile.KindPayment, MerchantRef: "SL20261130A0001", TxnID: "4200001234202611300001", Amount: money.MustParse("38.00"), Fee: money.MustParse("0.23"), At: at},
		{Kind: reconcile.KindPayment, MerchantRef: "SL20261130A0002", TxnID: "4200001234202611300002", Amount: money.MustParse("105.50"), Fee: money.MustParse("0.63"), At: at.Add(time.Hour)},
		{Kind: reconcile.KindRefund, MerchantRef: "SL20261130A0001", RefundNo: "0b6c1a52-6a4e-4d52-9d1e-5f3f7c1d2e3f", TxnID: "50300001", Amount: money.MustParse("38.00"), Fee: money.MustParse("0.23"), At: at.Add(2 * time.Hour)},
	}
}

func checkRows(t *testing.T, got []reconcile.Row, want []reconcile.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.MerchantRef != w.MerchantRef || g.RefundNo != w.RefundNo || !g.Amount.Equal(w.Amount) || !g.Fee.Equal(w.Fee) || !g.At.Equal(w.At) {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestWeChatBillRoundTrip(t *testing.T) {
	rows := sampleRows()
	data := reconcile.WriteWeChat(rows, cst)
	if !bytes.Contains(data, []byte("`SL20261130A0001")) || !bytes.Contains(data, []byte("总交易单数")) {
		t.Fatalf("not a trade bill:\n%s", data)
	}
	if n := len(strings.Split(strings.SplitN(string(data), "\r\n", 2)[0], ",")); n != 27 {
		t.Fatalf("header has %d columns, want 27", n)
	}
	for _, format := range []string{"wechatpay", "sandbox"} {
		p, err := reconcile.Parse(format, data, cst)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, p.Rows, rows)
	}
	pay, ref, fees := (&reconcile.Parsed{Rows: rows}).Totals()
	if pay.String() != "143.50" || ref.String() != "38.00" || fees.String() != "0.63" {
		t.Fatalf("totals %s %s %s", pay, ref, fees)
	}
}

// The bill as a person might save it again: a BOM, LF endings, blank lines,
// a trailing tab on a field, and the summary with the totals.
func TestWeChatBillTolerates(t *testing.T) {
	data := string(reconcile.WriteWeChat(sampleRows(), cst))
	data = "\xef\xbb\xbf" + strings.ReplaceAll(data, "\r\n", "\n")
	data = strings.Replace(data, "`SL20261130A0002", "`SL20261130A0002\t", 1)
	data = strings.Replace(data, "总交易单数", "\n总交易单数", 1)
	p, err := reconcile.Parse("wechatpay", []byte(data), cst)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, p.Rows, sampleRows())
}

func TestWeChatBillSummaryMustAgree(t *testing.T) {
	data := string(reconcile.WriteWeChat(sampleRows(), cst))
	bad := strings.Replace(data, "`3,`143.50", "`4,`143.50", 1)
	if bad == data {
		t.Fatal("summary line not found")
	}
	if _, err := reconcile.Parse("wechatpay", []byte(bad), cst); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a summary of 4 rows for 3: %v", err)
	}
	bad = strings.Replace(data, "`143.50,`38.00,`0.00,`0.63", "`143.50,`38.00,`0.00,`0.99", 1)
	if _, err := reconcile.Parse("wechatpay", []byte(bad), cst); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "手续费总金额") {
		t.Fatalf("wrong fee total: %v", err)
	}
}

func TestAlipayGBKRoundTrip(t *testing.T) {
	rows := sampleRows()
	data := reconcile.WriteAlipay(rows, cst, "2026-11-30")
	if bytes.Contains(data, []byte("支付宝")) {
		t.Fatal("the export should be GBK, not UTF-8")
	}
	utf, err := simplifiedchinese.GBK.NewDecoder().Bytes(data)
	if err != nil || !bytes.Contains(utf, []byte("#交易合计：2笔，退款合计：1笔")) {
		t.Fatalf("GBK text: %v\n%s", err, utf)
	}
	p, err := reconcile.Parse("alipay", data, cst)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, p.Rows, rows)
	// The same file saved as UTF-8 parses the same.
	p, err = reconcile.Parse("alipay", utf, cst)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, p.Rows, rows)
	// A totals line that disagrees is refused.
	bad, _ := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.Replace(utf, []byte("交易合计：2笔"), []byte("交易合计：5笔"), 1))
	if _, err := reconcile.Parse("alipay", bad, cst); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("wrong totals: %v", err)
	}
}

func TestParseRefusesWithLineNumbers(t *testing.T) {
	good := string(reconcile.WriteWeChat(sampleRows(), cst))
	cases := map[string]string{
		"empty":         "",
		"no header":     "hello,world\n",
		"bad amount":    strings.Replace(good, "`105.50,`0.00,`,`,`0.00", "`10x.50,`0.00,`,`,`0.00", 1),
		"bad state":     strings.Replace(good, "`SUCCESS,`OTHERS,`CNY,`38.00", "`REVOKED,`OTHERS,`CNY,`38.00", 1),
		"binary":        "\xff\xfe\x00\x01\x02",
		"unknown":       good,
		"three decimal": strings.Replace(good, "`0.23,`0.60%", "`0.234,`0.60%", 1),
	}
	for name, data := range cases {
		format := "wechatpay"
		if name == "unknown" {
			format = "paypal"
		}
		if _, err := reconcile.Parse(format, []byte(data), cst); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := reconcile.Parse("wechatpay", []byte(cases["bad amount"]), cst); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("the error names the line: %v", err)
	}
}

func FuzzParseWeChat(f *testing.F) {
	f.Add(reconcile.WriteWeChat(sampleRows(), cst))
	f.Add([]byte("交易时间,商户订单号\n`x,`y\n总交易单数\n`1"))
	f.Add([]byte("\xef\xbb\xbf\n\n#"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := reconcile.Parse("wechatpay", data, cst)
		if err == nil {
			for _, r := range p.Rows {
				if r.Amount.IsNegative() || r.MerchantRef == "" {
					t.Fatalf("bad row %+v", r)
				}
			}
		} else if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("not invalid: %v", err)
		}
	})
}

func FuzzParseAlipay(f *testing.F) {
	f.Add(reconcile.WriteAlipay(sampleRows(), cst, "2026-11-30"))
	f.Add([]byte("#交易合计：0笔，退款合计：0笔\n支付宝交易号,商户订单号,业务类型,订单金额（元）,退款批次号/请求号,服务费（元）\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := reconcile.Parse("alipay", data, cst)
		if err == nil {
			for _, r := range p.Rows {
				if r.Amount.IsNegative() || r.Fee.IsNegative() {
					t.Fatalf("bad row %+v", r)
				}
			}
		} else if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("not invalid: %v", err)
		}
	})
}
