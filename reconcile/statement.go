package reconcile

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Statement formats (API.md "Reconciliation and day close").
const (
	FormatWeChat = "wechatpay" // the WeChat Pay v3 trade bill (交易账单), also the sandbox's
	FormatAlipay = "alipay"    // the Alipay 业务明细 CSV, GBK, # comment lines
)

// Row kinds: a payment received, or a refund paid back. A statement lists a
// refund as its own row.
const (
	KindPayment = "payment"
	KindRefund  = "refund"
)

// Row is one transaction line of a provider statement, normalised: amounts
// are positive; Fee is the fee the provider withheld on a payment, or gave
// back on a refund.
type Row struct {
	Line        int    // line number in the file (1-based)
	Kind        string // KindPayment or KindRefund
	MerchantRef string // out_trade_no
	RefundNo    string // out_refund_no (refunds)
	TxnID       string // the provider's transaction (or refund) id
	Amount      money.Amount
	Fee         money.Amount
	At          time.Time
}

// Parsed is a statement file read into rows.
type Parsed struct {
	Format string
	Rows   []Row
}

// Totals sums a statement's rows.
func (p *Parsed) Totals() (payments, refunds, fees money.Amount) {
	var pc, rc, fc int64
	for _, r := range p.Rows {
		if r.Kind == KindPayment {
			pc += r.Amount.Cents()
			fc += r.Fee.Cents()
		} else {
			rc += r.Amount.Cents()
			fc -= r.Fee.Cents()
		}
	}
	return money.FromCents(pc), money.FromCents(rc), money.FromCents(fc)
}

// MaxStatementBytes bounds an uploaded statement (a day of 100,000 rows of
// the WeChat bill is about 40 MB).
const MaxStatementBytes = 64 << 20

// wechatColumns is the v3 trade bill header (27 columns).
var wechatColumns = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
	"交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
	"充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}

// alipayColumns is the 业务明细 header (25 columns).
var alipayColumns = []string{"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
	"操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
	"商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
	"服务费（元）", "分润（元）", "备注"}

// Parse reads a statement file of the given format ("wechatpay", "alipay";
// "sandbox" is the WeChat format). Times without a zone are read in loc
// (the providers write Beijing time). It tolerates a UTF-8 BOM, GBK, CRLF,
// backtick- and ="…"-quoted fields, trailing tabs and spaces, blank lines,
// # comment lines and the summary lines; a summary that disagrees with the
// rows is refused. Errors are apperr invalid, naming the line.
func Parse(format string, data []byte, loc *time.Location) (*Parsed, error) {
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatWeChat, "sandbox":
		return parseWeChat(text, loc)
	case FormatAlipay:
		return parseAlipay(text, loc)
	}
	return nil, apperr.Field("provider", "unknown statement format %q (wechatpay, alipay or sandbox)", format)
}

// decodeText returns the file as UTF-8: a BOM is dropped, and a file that is
// not valid UTF-8 is read as GBK (GB18030, its superset).
func decodeText(data []byte) (string, error) {
	if len(data) > MaxStatementBytes {
		return "", apperr.Field("file", "the statement is larger than %d MB", MaxStatementBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || !utf8.Valid(out) {
		return "", apperr.Field("file", "the statement is neither UTF-8 nor GBK text")
	}
	return string(out), nil
}

// clean strips what providers wrap fields in: spaces, tabs, a leading
// backtick (WeChat), ="…" (Excel-safe exports) and a trailing tab (Alipay).
func clean(s string) string {
	s = strings.Trim(s, " \t\r\n\u3000")
	s = strings.TrimPrefix(s, "`")
	if strings.HasPrefix(s, "=\"") && strings.HasSuffix(s, "\"") && len(s) >= 3 {
		s = s[2 : len(s)-1]
	}
	return strings.Trim(s, " \t")
}

// splitLine reads one CSV line into cleaned fields.
func splitLine(line string) ([]string, error) {
	var f []string
	if !strings.ContainsRune(line, '"') {
		// The common case (no quoting): a plain split, no CSV reader.
		f = strings.Split(line, ",")
	} else {
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		r.TrimLeadingSpace = true
		var err error
		if f, err = r.Read(); err != nil {
			return nil, err
		}
	}
	for i := range f {
		f[i] = clean(f[i])
	}
	// Trailing empty fields (a trailing comma or tab) carry nothing.
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f, nil
}

// parseCents reads an amount like "12.50", "-0.23", "¥1,234.5" or "" (zero).
func parseCents(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.ReplaceAll(s, ",", ""), "¥")
	if s == "" {
		return 0, true
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var c int64
	for _, ch := range whole + frac {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		c = c*10 + int64(ch-'0')
	}
	if neg {
		c = -c
	}
	return c, true
}

func abs(c int64) int64 {
	if c < 0 {
		return -c
	}
	return c
}

var timeLayouts = []string{"2006-01-02 15:04:05", "2006/01/02 15:04:05", "2006-01-02 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04"}

func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func lineErr(line int, format string, args ...any) error {
	return apperr.Field("file", "line %d: %s", line, fmt.Sprintf(format, args...))
}

// header maps column names to their index and checks the required ones.
func header(fields []string, required []string, line int) (map[string]int, error) {
	idx := make(map[string]int, len(fields))
	for i, f := range fields {
		idx[f] = i
	}
	for _, r := range required {
		if _, ok := idx[r]; !ok {
			return nil, lineErr(line, "the header has no column %q", r)
		}
	}
	return idx, nil
}

func field(f []string, idx map[string]int, name string) string {
	if i, ok := idx[name]; ok && i < len(f) {
		return f[i]
	}
	return ""
}

func lines(text string) []string { return strings.Split(text, "\n") }

// parseWeChat reads the v3 trade bill: a header line, one row per payment
// and per refund (fields prefixed with a backtick), then the summary header
// 总交易单数,… and its values line.
func parseWeChat(text string, loc *time.Location) (*Parsed, error) {
	p := &Parsed{Format: FormatWeChat}
	var idx map[string]int
	var summary []string
	var summaryIdx map[string]int
	ls := lines(text)
	for n := 0; n < len(ls); n++ {
		line := strings.TrimRight(ls[n], "\r")
		if strings.TrimSpace(strings.Trim(line, ",\t")) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f, err := splitLine(line)
		if err != nil {
			return nil, lineErr(n+1, "not a CSV line")
		}
		if len(f) == 0 {
			continue
		}
		if idx == nil {
			if f[0] != "交易时间" {
				return nil, lineErr(n+1, "expected the trade bill header (交易时间,…,商户订单号,…)")
			}
			if idx, err = header(f, []string{"交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "商户退款单号", "退款金额", "手续费"}, n+1); err != nil {
				return nil, err
			}
			continue
		}
		if f[0] == "总交易单数" {
			summaryIdx, _ = header(f, nil, n+1)
			for m := n + 1; m < len(ls); m++ {
				l := strings.TrimRight(ls[m], "\r")
				if strings.TrimSpace(l) == "" {
					continue
				}
				if summary, err = splitLine(l); err != nil {
					return nil, lineErr(m+1, "not a CSV line")
				}
				n = m
				break
			}
			continue
		}
		if summary != nil {
			return nil, lineErr(n+1, "a transaction after the summary")
		}
		row, err := wechatRow(f, idx, n+1, loc)
		if err != nil {
			return nil, err
		}
		p.Rows = append(p.Rows, row)
	}
	if idx == nil {
		return nil, apperr.Field("file", "no trade bill header (交易时间,…) in the file")
	}
	if summaryIdx != nil {
		if summary == nil {
			return nil, apperr.Field("file", "the summary header has no values line")
		}
		if err := checkWeChatSummary(p, summary, summaryIdx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func wechatRow(f []string, idx map[string]int, line int, loc *time.Location) (Row, error) {
	r := Row{Line: line}
	at, ok := parseTime(field(f, idx, "交易时间"), loc)
	if !ok {
		return r, lineErr(line, "交易时间 %q is not a time", field(f, idx, "交易时间"))
	}
	r.At = at
	r.TxnID = field(f, idx, "微信订单号")
	r.MerchantRef = field(f, idx, "商户订单号")
	if r.MerchantRef == "" {
		return r, lineErr(line, "商户订单号 is empty")
	}
	fee, ok := parseCents(field(f, idx, "手续费"))
	if !ok {
		return r, lineErr(line, "手续费 %q is not an amount", field(f, idx, "手续费"))
	}
	switch st := strings.ToUpper(field(f, idx, "交易状态")); st {
	case "SUCCESS":
		a, ok := parseCents(field(f, idx, "应结订单金额"))
		if !ok || a < 0 {
			return r, lineErr(line, "应结订单金额 %q is not an amount", field(f, idx, "应结订单金额"))
		}
		r.Kind, r.Amount, r.Fee = KindPayment, money.FromCents(a), money.FromCents(fee)
	case "REFUND":
		a, ok := parseCents(field(f, idx, "退款金额"))
		if !ok {
			return r, lineErr(line, "退款金额 %q is not an amount", field(f, idx, "退款金额"))
		}
		r.Kind, r.Amount, r.Fee = KindRefund, money.FromCents(abs(a)), money.FromCents(abs(fee))
		r.RefundNo = field(f, idx, "商户退款单号")
		if id := field(f, idx, "微信退款单号"); id != "" {
			r.TxnID = id
		}
		if r.RefundNo == "" {
			return r, lineErr(line, "a refund row without 商户退款单号")
		}
	default:
		return r, lineErr(line, "交易状态 %q is neither SUCCESS nor REFUND", st)
	}
	return r, nil
}

func checkWeChatSummary(p *Parsed, vals []string, idx map[string]int) error {
	if s := field(vals, idx, "总交易单数"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n != len(p.Rows) {
			return apperr.Field("file", "the summary counts %s transactions, the file has %d", s, len(p.Rows))
		}
	}
	pay, ref, fees := p.Totals()
	for name, want := range map[string]money.Amount{"应结订单总金额": pay, "退款总金额": ref, "手续费总金额": fees} {
		s := field(vals, idx, name)
		if s == "" {
			continue
		}
		c, ok := parseCents(s)
		if !ok || abs(c) != abs(want.Cents()) {
			return apperr.Field("file", "the summary's %s is %s, the rows sum to %s", name, s, want)
		}
	}
	return nil
}

var alipayTotals = regexp.MustCompile(`交易合计[:：]\s*(\d+)\s*笔.*?退款合计[:：]\s*(\d+)\s*笔`)

// parseAlipay reads the 业务明细 export: # comment lines around a header and
// one row per trade (业务类型 交易) and refund (退款); a "#交易合计：N笔，退款合计：M笔"
// line, when present, must agree with the rows.
func parseAlipay(text string, loc *time.Location) (*Parsed, error) {
	p := &Parsed{Format: FormatAlipay}
	var idx map[string]int
	trades, refunds := -1, -1
	for n, raw := range lines(text) {
		line := strings.TrimRight(raw, "\r")
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			if m := alipayTotals.FindStringSubmatch(t); m != nil {
				trades, _ = strconv.Atoi(m[1])
				refunds, _ = strconv.Atoi(m[2])
			}
			continue
		}
		if strings.Trim(t, ",\t ") == "" {
			continue
		}
		f, err := splitLine(line)
		if err != nil {
			return nil, lineErr(n+1, "not a CSV line")
		}
		if len(f) == 0 {
			continue
		}
		if idx == nil {
			if f[0] != "支付宝交易号" {
				return nil, lineErr(n+1, "expected the 业务明细 header (支付宝交易号,商户订单号,…)")
			}
			if idx, err = header(f, []string{"支付宝交易号", "商户订单号", "业务类型", "订单金额（元）", "退款批次号/请求号", "服务费（元）"}, n+1); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(f[0], "合计") || strings.HasPrefix(f[0], "总计") {
			continue
		}
		row, err := alipayRow(f, idx, n+1, loc)
		if err != nil {
			return nil, err
		}
		p.Rows = append(p.Rows, row)
	}
	if idx == nil {
		return nil, apperr.Field("file", "no 业务明细 header (支付宝交易号,…) in the file")
	}
	if trades >= 0 {
		var np, nr int
		for _, r := range p.Rows {
			if r.Kind == KindPayment {
				np++
			} else {
				nr++
			}
		}
		if np != trades || nr != refunds {
			return nil, apperr.Field("file", "the totals line counts %d trades and %d refunds, the file has %d and %d", trades, refunds, np, nr)
		}
	}
	return p, nil
}

func alipayRow(f []string, idx map[string]int, line int, loc *time.Location) (Row, error) {
	r := Row{Line: line, TxnID: field(f, idx, "支付宝交易号"), MerchantRef: field(f, idx, "商户订单号")}
	if r.MerchantRef == "" {
		return r, lineErr(line, "商户订单号 is empty")
	}
	ts := field(f, idx, "完成时间")
	if ts == "" {
		ts = field(f, idx, "创建时间")
	}
	at, ok := parseTime(ts, loc)
	if !ok {
		return r, lineErr(line, "完成时间 %q is not a time", ts)
	}
	r.At = at
	a, ok := parseCents(field(f, idx, "订单金额（元）"))
	if !ok {
		return r, lineErr(line, "订单金额（元） %q is not an amount", field(f, idx, "订单金额（元）"))
	}
	fee, ok := parseCents(field(f, idx, "服务费（元）"))
	if !ok {
		return r, lineErr(line, "服务费（元） %q is not an amount", field(f, idx, "服务费（元）"))
	}
	switch kind := field(f, idx, "业务类型"); kind {
	case "交易", "在线支付", "收款":
		r.Kind, r.Amount, r.Fee = KindPayment, money.FromCents(abs(a)), money.FromCents(abs(fee))
	case "退款", "交易退款":
		r.Kind, r.Amount, r.Fee = KindRefund, money.FromCents(abs(a)), money.FromCents(abs(fee))
		r.RefundNo = field(f, idx, "退款批次号/请求号")
		if r.RefundNo == "" {
			return r, lineErr(line, "a refund row without 退款批次号/请求号")
		}
	default:
		return r, lineErr(line, "业务类型 %q is neither 交易 nor 退款", kind)
	}
	return r, nil
}

// WriteWeChat writes rows as a v3 trade bill (backtick-prefixed fields and
// the two summary lines), times in loc. The sandbox's statement, the demo
// data and the tests use it.
func WriteWeChat(rows []Row, loc *time.Location) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(wechatColumns, ",") + "\r\n")
	for _, r := range rows {
		v := make([]string, len(wechatColumns))
		v[0] = r.At.In(loc).Format("2006-01-02 15:04:05")
		v[1], v[2], v[5], v[6], v[7] = "wxshelin00000001", "1900000001", r.TxnID, r.MerchantRef, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
		v[8], v[11] = "NATIVE", "CNY"
		if r.Kind == KindRefund {
			v[9], v[12], v[14], v[15], v[16] = "REFUND", "0.00", r.TxnID, r.RefundNo, r.Amount.String()
			v[5] = "4200" + strings.TrimPrefix(r.TxnID, "50")
			v[18], v[19], v[22] = "ORIGINAL", "SUCCESS", r.Fee.Neg().String()
			v[25] = r.Amount.String()
		} else {
			v[9], v[12], v[16], v[22], v[24] = "SUCCESS", r.Amount.String(), "0.00", r.Fee.String(), r.Amount.String()
		}
		v[10], v[13], v[17], v[20], v[23], v[26] = "OTHERS", "0.00", "0.00", "社邻摊位", "0.60%", ""
		for i := range v {
			v[i] = "`" + v[i]
		}
		b.WriteString(strings.Join(v, ",") + "\r\n")
	}
	pay, ref, fees := (&Parsed{Rows: rows}).Totals()
	b.WriteString("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
	fmt.Fprintf(&b, "`%d,`%s,`%s,`0.00,`%s,`%s,`%s\r\n", len(rows), pay, ref, fees, pay, ref)
	return b.Bytes()
}

// WriteAlipay writes rows as the 业务明细 export in GBK with its # lines.
func WriteAlipay(rows []Row, loc *time.Location, day string) []byte {
	var b strings.Builder
	b.WriteString("#支付宝业务明细查询\r\n#账号：[20880000000000000156]\r\n")
	fmt.Fprintf(&b, "#起始日期：[%s 00:00:00]   终止日期：[%s 23:59:59]\r\n", day, day)
	b.WriteString("#-----------------------------------------业务明细列表----------------------------------------\r\n")
	b.WriteString(strings.Join(alipayColumns, ",") + "\r\n")
	var np, nr int
	for _, r := range rows {
		v := make([]string, len(alipayColumns))
		at := r.At.In(loc).Format("2006-01-02 15:04:05")
		v[0], v[1], v[4], v[5], v[7] = r.TxnID, r.MerchantRef, at, at, "社邻摊位"
		if r.Kind == KindRefund {
			nr++
			v[2], v[11], v[12], v[21], v[22] = "退款", r.Amount.Neg().String(), r.Amount.Neg().String(), r.RefundNo, r.Fee.String()
		} else {
			np++
			v[2], v[11], v[12], v[22] = "交易", r.Amount.String(), r.Amount.String(), r.Fee.Neg().String()
		}
		v[3], v[10] = "洛阳牡丹酥", "ali***@example.com"
		for _, i := range []int{13, 14, 15, 16, 17, 19, 20, 23} {
			v[i] = "0.00"
		}
		for i := range v {
			v[i] += "\t"
		}
		b.WriteString(strings.Join(v, ",") + "\r\n")
	}
	b.WriteString("#-----------------------------------------业务明细列表结束------------------------------------\r\n")
	fmt.Fprintf(&b, "#交易合计：%d笔，退款合计：%d笔\r\n#导出时间：[%s 23:59:59]\r\n", np, nr, day)
	out, err := simplifiedchinese.GBK.NewEncoder().String(b.String())
	if err != nil {
		panic(err) // every character above is in GBK
	}
	return []byte(out)
}
