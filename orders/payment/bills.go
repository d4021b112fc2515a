package payment

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/smartwalle/alipay/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/credentials"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/signers"
	"golang.org/x/text/encoding/simplifiedchinese"

	"shelin/internal/apperr"
)

// Bill is a provider's trade bill (对账单) of one day, as downloaded (the
// WeChat CSV, the Alipay zip), with its parsed detail rows. Empty is a day
// the provider has no bill for (no trades).
type Bill struct {
	Provider string
	Date     string // YYYY-MM-DD, China time
	Content  []byte
	Header   []string
	Rows     [][]string
	Summary  []string // WeChat: the summary line's values
	Empty    bool
}

// maxBill bounds a bill download.
const maxBill = 64 << 20

// TradeBill downloads WeChat's trade bill of a day (GET /v3/bill/tradebill,
// bill_type ALL), checks its SHA1 against the hash WeChat gave with the
// download URL, and parses it. A day without trades (NO_STATEMENT_EXIST) is
// an empty bill.
func (w *WeChatProvider) TradeBill(ctx context.Context, communityID, date string) (*Bill, error) {
	c, s, err := w.Client(ctx, communityID)
	if err != nil {
		return nil, err
	}
	host := w.Host
	if host == "" {
		host = WeChatHost
	}
	res, err := c.Get(ctx, strings.TrimRight(host, "/")+"/v3/bill/tradebill?bill_date="+date+"&bill_type=ALL")
	if err != nil {
		var ae *core.APIError
		if errors.As(err, &ae) && (ae.Code == "NO_STATEMENT_EXIST") {
			return &Bill{Provider: WeChatPay, Date: date, Empty: true}, nil
		}
		return nil, wechatErr("trade bill", err)
	}
	defer res.Response.Body.Close()
	var meta struct {
		HashType    string `json:"hash_type"`
		HashValue   string `json:"hash_value"`
		DownloadURL string `json:"download_url"`
	}
	if err := json.NewDecoder(res.Response.Body).Decode(&meta); err != nil || meta.DownloadURL == "" {
		return nil, fmt.Errorf("wechatpay trade bill: no download_url (%v)", err)
	}
	// The file itself is not signed by WeChat: fetch it with a signed
	// request of our own and check its hash instead.
	key, err := ParseRSAPrivateKey(s.PrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	u, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.DownloadURL, nil)
	if err != nil {
		return nil, err
	}
	cred := credentials.WechatPayCredentials{Signer: &signers.SHA256WithRSASigner{MchID: s.MchID, CertificateSerialNo: s.SerialNo, PrivateKey: key}}
	auth, err := cred.GenerateAuthorizationHeader(ctx, http.MethodGet, u.URL.RequestURI(), "")
	if err != nil {
		return nil, err
	}
	u.Header.Set("Authorization", auth)
	hc, err := HTTPClientFor(host, w.Transport, 60*time.Second)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(u)
	if err != nil {
		return nil, fmt.Errorf("wechatpay bill download: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBill))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wechatpay bill download: HTTP %d", resp.StatusCode)
	}
	if strings.ToUpper(meta.HashType) == "SHA1" {
		sum := sha1.Sum(body)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), meta.HashValue) {
			return nil, apperr.New(apperr.Invalid, "wechatpay bill of %s: SHA1 does not match the hash WeChat gave", date)
		}
	}
	b, err := ParseWeChatBill(body)
	if err != nil {
		return nil, err
	}
	b.Date = date
	return b, nil
}

// ParseWeChatBill reads a WeChat trade bill: a header line, detail lines
// whose fields start with a backtick, then two summary lines (their names,
// their values). The summary's trade count must equal the detail lines.
func ParseWeChatBill(body []byte) (*Bill, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "wechatpay bill is not CSV: %v", err)
	}
	if len(recs) < 3 {
		return nil, apperr.New(apperr.Invalid, "wechatpay bill has %d lines; it needs a header and two summary lines", len(recs))
	}
	b := &Bill{Provider: WeChatPay, Content: body, Header: recs[0]}
	detail, sumNames, sumVals := recs[1:len(recs)-2], recs[len(recs)-2], recs[len(recs)-1]
	if len(sumNames) == 0 || !strings.Contains(sumNames[0], "总") {
		return nil, apperr.New(apperr.Invalid, "wechatpay bill: the second-to-last line is not the summary header")
	}
	for i, rec := range detail {
		row := make([]string, len(rec))
		for j, f := range rec {
			if !strings.HasPrefix(f, "`") {
				return nil, apperr.New(apperr.Invalid, "wechatpay bill line %d: field %d does not start with a backtick", i+2, j+1)
			}
			row[j] = strings.TrimPrefix(f, "`")
		}
		b.Rows = append(b.Rows, row)
	}
	for _, f := range sumVals {
		b.Summary = append(b.Summary, strings.TrimPrefix(f, "`"))
	}
	if len(b.Summary) > 0 && b.Summary[0] != fmt.Sprint(len(b.Rows)) {
		return nil, apperr.New(apperr.Invalid, "wechatpay bill: the summary counts %s trades but %d lines follow the header", b.Summary[0], len(b.Rows))
	}
	return b, nil
}

// TradeBill downloads Alipay's trade bill of a day
// (alipay.data.dataservice.bill.downloadurl.query, bill_type trade): a zip
// of GBK CSV files with # comment lines; the 业务明细 file is parsed. A day
// without a bill is empty.
func (a *AlipayProvider) TradeBill(ctx context.Context, communityID, date string) (*Bill, error) {
	c, _, err := a.Client(ctx, communityID)
	if err != nil {
		return nil, err
	}
	rsp, err := c.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQuery{BillType: "trade", BillDate: date})
	if err != nil {
		return nil, fmt.Errorf("alipay bill url: %w", err)
	}
	if rsp.IsFailure() {
		if rsp.SubCode == "isp.bill_not_exist" {
			return &Bill{Provider: Alipay, Date: date, Empty: true}, nil
		}
		return nil, alipayErr("bill url", rsp.Error)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rsp.BillDownloadURL, nil)
	if err != nil {
		return nil, err
	}
	base := a.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: base, Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay bill download: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBill))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alipay bill download: HTTP %d", resp.StatusCode)
	}
	b, err := ParseAlipayBill(body)
	if err != nil {
		return nil, err
	}
	b.Date = date
	return b, nil
}

// ParseAlipayBill reads an Alipay trade bill zip: the CSV whose name has
// 业务明细 but not 汇总, GBK encoded, with # comment lines around a header
// and the detail rows.
func ParseAlipayBill(zipped []byte) (*Bill, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "alipay bill is not a zip: %v", err)
	}
	var f *zip.File
	for _, zf := range zr.File {
		name := zf.Name
		if zf.NonUTF8 {
			if n, err := simplifiedchinese.GBK.NewDecoder().String(zf.Name); err == nil {
				name = n
			}
		}
		if strings.Contains(name, "业务明细") && !strings.Contains(name, "汇总") {
			f = zf
		}
	}
	if f == nil {
		return nil, apperr.New(apperr.Invalid, "alipay bill zip has no 业务明细 file")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(simplifiedchinese.GBK.NewDecoder().Reader(rc), maxBill))
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "alipay bill is not GBK: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "alipay bill is not CSV: %v", err)
	}
	if len(recs) == 0 {
		return nil, apperr.New(apperr.Invalid, "alipay bill has no header")
	}
	b := &Bill{Provider: Alipay, Content: zipped, Header: trimAll(recs[0])}
	for _, rec := range recs[1:] {
		b.Rows = append(b.Rows, trimAll(rec))
	}
	return b, nil
}

func trimAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, f := range rec {
		out[i] = strings.TrimSpace(strings.Trim(f, "\t"))
	}
	return out
}
