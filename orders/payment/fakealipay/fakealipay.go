// Package fakealipay is an Alipay open-platform gateway for tests on the
// loopback: it speaks 当面付 (precreate, query, close, refund, refund query)
// and the bill download URL query, checks the app's RSA2 request
// signatures, signs its answers and asynchronous notifications with an
// Alipay key it generates, keeps trades in memory and can misbehave on
// request.
package fakealipay

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"shelin/internal/money"
	"shelin/orders/payment"
	"shelin/orders/payment/fakewechat"
)

// Trade is one 当面付 trade. Before the customer scans, Alipay does not know
// it (Scanned false): query and close answer ACQ.TRADE_NOT_EXIST.
type Trade struct {
	OutTradeNo string
	Subject    string
	Total      money.Amount
	QRCode     string
	NotifyURL  string
	Scanned    bool
	Status     string // WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED
	TradeNo    string
	PaidAt     time.Time
	Refunded   money.Amount
	ExpireAt   time.Time
}

// Refund is one refund by out_request_no.
type Refund struct {
	OutRequestNo string
	OutTradeNo   string
	Amount       money.Amount
	Calls        int
}

// Misbehave says how the next notifications go wrong.
type Misbehave = fakewechat.Misbehave

// Server is the fake gateway.
type Server struct {
	URL       string // the gateway (…/gateway.do)
	AppID     string
	SellerID  string
	AppKey    *rsa.PrivateKey // the app's key (Shelin signs with it)
	AlipayKey *rsa.PrivateKey // Alipay's key (the fake signs with it)
	Client    *http.Client
	srv       *httptest.Server
	mu        sync.Mutex
	Trades    map[string]*Trade
	Refunds   map[string]*Refund
	Next      Misbehave
	FailNext  int
	Requests  map[string]int
	Sent      int
	Bills     map[string][]byte // zip files by date
	// Certificate mode (NewWithCertificates).
	RootCert, AlipayCert, AppCert *x509.Certificate
	stash                         []heldNote
	seq                           int
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{AppID: "2021" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12), SellerID: "2088" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12),
		AppKey: fakewechat.Key(3), AlipayKey: fakewechat.Key(4), Trades: map[string]*Trade{}, Refunds: map[string]*Refund{},
		Requests: map[string]int{}, Bills: map[string][]byte{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL + "/gateway.do"
	s.Client = &http.Client{Timeout: 10 * time.Second}
	return s
}

// NewWithCertificates starts a fake in certificate mode: a root CA, an
// Alipay certificate (Alipay's key) and an app certificate (the app's key);
// requests must name the app and root certificates (app_cert_sn,
// alipay_root_cert_sn) and answers name Alipay's (alipay_cert_sn).
func NewWithCertificates() *Server {
	s := New()
	root := fakewechat.Key(5)
	now := time.Now()
	mk := func(serial int64, cn string, pub *rsa.PublicKey, parent *x509.Certificate, ca bool) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Ant Financial fake"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), SignatureAlgorithm: x509.SHA256WithRSA, IsCA: ca, BasicConstraintsValid: ca}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, root)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return c
	}
	s.RootCert = mk(time.Now().UnixNano()%1e9+1, "Ant Financial Certification Authority R1 fake", &root.PublicKey, nil, true)
	s.AlipayCert = mk(time.Now().UnixNano()%1e9+2, "支付宝(中国)网络技术有限公司 fake", &s.AlipayKey.PublicKey, s.RootCert, false)
	s.AppCert = mk(time.Now().UnixNano()%1e9+3, s.AppID, &s.AppKey.PublicKey, s.RootCert, false)
	return s
}

// CertSN is how Alipay names a certificate: md5(issuer + decimal serial).
func CertSN(c *x509.Certificate) string {
	sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Settings is the app Shelin stores for this fake (public-key mode).
func (s *Server) Settings() payment.AlipaySettings {
	if s.AppCert != nil {
		return payment.AlipaySettings{AppID: s.AppID, PrivateKeyPEM: payment.PEMPrivateKey(s.AppKey), AppCertPEM: certPEM(s.AppCert),
			AlipayCertPEM: certPEM(s.AlipayCert), RootCertPEM: certPEM(s.RootCert), SellerID: s.SellerID, Sandbox: true}
	}
	return payment.AlipaySettings{AppID: s.AppID, PrivateKeyPEM: payment.PEMPrivateKey(s.AppKey),
		AlipayPublicKey: payment.PEMPublicKey(&s.AlipayKey.PublicKey), SellerID: s.SellerID, Sandbox: true}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func content(values url.Values, skip ...string) string {
	var pairs []string
	for k, vs := range values {
		skipped := false
		for _, x := range skip {
			if k == x {
				skipped = true
			}
		}
		if skipped {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, k+"="+v)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func signBytes(key *rsa.PrivateKey, b []byte) string {
	sum := sha256.Sum256(b)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (s *Server) reply(w http.ResponseWriter, method string, v map[string]any) {
	inner, _ := json.Marshal(v)
	name := strings.ReplaceAll(method, ".", "_") + "_response"
	certSN := ""
	if s.AlipayCert != nil {
		certSN = `,"alipay_cert_sn":"` + CertSN(s.AlipayCert) + `"`
	}
	body := `{"` + name + `":` + string(inner) + certSN + `,"sign":"` + signBytes(s.AlipayKey, inner) + `"}`
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	_, _ = io.WriteString(w, body)
}

func bizErr(sub, msg string) map[string]any {
	return map[string]any{"code": "40004", "msg": "Business Failed", "sub_code": sub, "sub_msg": msg}
}

func ok(m map[string]any) map[string]any {
	m["code"], m["msg"] = "10000", "Success"
	return m
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/bill/") {
		s.mu.Lock()
		b, found := s.Bills[strings.TrimPrefix(r.URL.Path, "/bill/")]
		s.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(b)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	v := r.Form
	method := v.Get("method")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests[method]++
	sig, err := base64.StdEncoding.DecodeString(v.Get("sign"))
	sum := sha256.Sum256([]byte(content(v, "sign")))
	badCert := s.AppCert != nil && (v.Get("app_cert_sn") != CertSN(s.AppCert) || v.Get("alipay_root_cert_sn") != CertSN(s.RootCert))
	if err != nil || badCert || v.Get("app_id") != s.AppID || rsa.VerifyPKCS1v15(&s.AppKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		s.reply(w, method, map[string]any{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"})
		return
	}
	if s.FailNext > 0 {
		s.FailNext--
		s.reply(w, method, map[string]any{"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙"})
		return
	}
	var biz map[string]any
	_ = json.Unmarshal([]byte(v.Get("biz_content")), &biz)
	str := func(k string) string { x, _ := biz[k].(string); return x }
	switch method {
	case "alipay.trade.precreate":
		amt, err := money.Parse(str("total_amount"))
		if err != nil || str("out_trade_no") == "" {
			s.reply(w, method, map[string]any{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-parameter"})
			return
		}
		if t, ok0 := s.Trades[str("out_trade_no")]; ok0 {
			if t.Status == "TRADE_SUCCESS" {
				s.reply(w, method, bizErr("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"))
				return
			}
			s.reply(w, method, ok(map[string]any{"out_trade_no": t.OutTradeNo, "qr_code": t.QRCode}))
			return
		}
		t := &Trade{OutTradeNo: str("out_trade_no"), Subject: str("subject"), Total: amt, QRCode: "https://qr.alipay.com/bax" + randHex(10),
			NotifyURL: v.Get("notify_url"), Status: "WAIT_BUYER_PAY"}
		if e, err := time.ParseInLocation(payment.AlipayTimeLayout, str("time_expire"), payment.ChinaTime); err == nil {
			t.ExpireAt = e
		}
		s.Trades[t.OutTradeNo] = t
		s.reply(w, method, ok(map[string]any{"out_trade_no": t.OutTradeNo, "qr_code": t.QRCode}))
	case "alipay.trade.query":
		t, found := s.Trades[str("out_trade_no")]
		if !found || !t.Scanned {
			s.reply(w, method, bizErr("ACQ.TRADE_NOT_EXIST", "交易不存在"))
			return
		}
		m := map[string]any{"out_trade_no": t.OutTradeNo, "trade_no": t.TradeNo, "trade_status": t.Status, "total_amount": t.Total.String(),
			"buyer_logon_id": "159****5620"}
		if !t.PaidAt.IsZero() {
			m["send_pay_date"] = t.PaidAt.In(payment.ChinaTime).Format(payment.AlipayTimeLayout)
			m["receipt_amount"] = t.Total.String()
		}
		s.reply(w, method, ok(m))
	case "alipay.trade.close":
		t, found := s.Trades[str("out_trade_no")]
		if !found || !t.Scanned {
			s.reply(w, method, bizErr("ACQ.TRADE_NOT_EXIST", "交易不存在"))
			return
		}
		if t.Status == "TRADE_SUCCESS" {
			s.reply(w, method, bizErr("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"))
			return
		}
		t.Status = "TRADE_CLOSED"
		s.reply(w, method, ok(map[string]any{"out_trade_no": t.OutTradeNo, "trade_no": t.TradeNo}))
	case "alipay.trade.refund":
		s.refund(w, method, str("out_trade_no"), str("out_request_no"), str("refund_amount"))
	case "alipay.trade.fastpay.refund.query":
		rf, found := s.Refunds[str("out_request_no")]
		if !found {
			s.reply(w, method, ok(map[string]any{"out_trade_no": str("out_trade_no"), "out_request_no": str("out_request_no")}))
			return
		}
		t := s.Trades[rf.OutTradeNo]
		s.reply(w, method, ok(map[string]any{"trade_no": t.TradeNo, "out_trade_no": t.OutTradeNo, "out_request_no": rf.OutRequestNo,
			"total_amount": t.Total.String(), "refund_amount": rf.Amount.String(), "refund_status": "REFUND_SUCCESS"}))
	case "alipay.data.dataservice.bill.downloadurl.query":
		date := str("bill_date")
		if _, found := s.Bills[date]; !found {
			s.reply(w, method, bizErr("isp.bill_not_exist", "账单不存在"))
			return
		}
		s.reply(w, method, ok(map[string]any{"bill_download_url": s.srv.URL + "/bill/" + date}))
	default:
		s.reply(w, method, map[string]any{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-method"})
	}
}

func (s *Server) refund(w http.ResponseWriter, method, ref, reqNo, amount string) {
	if rf, found := s.Refunds[reqNo]; found {
		rf.Calls++
		t := s.Trades[rf.OutTradeNo]
		s.reply(w, method, ok(map[string]any{"trade_no": t.TradeNo, "out_trade_no": t.OutTradeNo, "fund_change": "N", "refund_fee": t.Refunded.String()}))
		return
	}
	t, found := s.Trades[ref]
	if !found || t.Status != "TRADE_SUCCESS" {
		s.reply(w, method, bizErr("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"))
		return
	}
	amt, err := money.Parse(amount)
	if err != nil || !amt.IsPositive() {
		s.reply(w, method, map[string]any{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-parameter"})
		return
	}
	if t.Refunded.Add(amt).GreaterThan(t.Total) {
		s.reply(w, method, bizErr("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"))
		return
	}
	t.Refunded = t.Refunded.Add(amt)
	s.Refunds[reqNo] = &Refund{OutRequestNo: reqNo, OutTradeNo: ref, Amount: amt, Calls: 1}
	s.reply(w, method, ok(map[string]any{"trade_no": t.TradeNo, "out_trade_no": t.OutTradeNo, "fund_change": "Y", "refund_fee": t.Refunded.String(),
		"buyer_logon_id": "159****5620", "gmt_refund_pay": time.Now().In(payment.ChinaTime).Format(payment.AlipayTimeLayout)}))
	if t.NotifyURL != "" {
		s.sendLocked(t.NotifyURL, s.refundValues("N"+randHex(10), t, reqNo, s.Next), s.Next)
	}
}

// Pay is the customer scanning the code and paying in Alipay: the trade
// exists from the scan on, succeeds, and its notification goes out (as
// Next says). late lets a payment race a close.
func (s *Server) Pay(outTradeNo string, late bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, found := s.Trades[outTradeNo]
	if !found {
		return fmt.Errorf("fakealipay: no trade %s", outTradeNo)
	}
	if t.Status == "TRADE_SUCCESS" {
		return nil
	}
	if t.Status != "WAIT_BUYER_PAY" && !late {
		return fmt.Errorf("fakealipay: trade %s is %s", outTradeNo, t.Status)
	}
	s.seq++
	t.Scanned, t.Status, t.TradeNo, t.PaidAt = true, "TRADE_SUCCESS", fmt.Sprintf("2026%020d", s.seq), time.Now()
	s.sendLocked(t.NotifyURL, s.paymentValues("N"+randHex(10), t, s.Next), s.Next)
	return nil
}

// Scan is the customer scanning without paying yet: the trade now exists.
func (s *Server) Scan(outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, found := s.Trades[outTradeNo]; found {
		t.Scanned = true
		if t.TradeNo == "" {
			s.seq++
			t.TradeNo = fmt.Sprintf("2026%020d", s.seq)
		}
	}
}

func (s *Server) base(id string, t *Trade, m Misbehave) url.Values {
	at := time.Now().Add(-m.Age).In(payment.ChinaTime)
	v := url.Values{}
	v.Set("notify_time", at.Format(payment.AlipayTimeLayout))
	v.Set("notify_type", "trade_status_sync")
	v.Set("notify_id", id)
	v.Set("app_id", s.AppID)
	v.Set("charset", "utf-8")
	v.Set("version", "1.0")
	v.Set("sign_type", "RSA2")
	v.Set("trade_no", t.TradeNo)
	v.Set("out_trade_no", t.OutTradeNo)
	v.Set("seller_id", s.SellerID)
	v.Set("buyer_id", "2088102177846880")
	v.Set("subject", t.Subject)
	v.Set("gmt_create", t.PaidAt.In(payment.ChinaTime).Format(payment.AlipayTimeLayout))
	v.Set("gmt_payment", t.PaidAt.In(payment.ChinaTime).Format(payment.AlipayTimeLayout))
	total := t.Total
	if m.WrongAmount {
		total = total.Add(money.FromCents(1))
	}
	v.Set("total_amount", total.String())
	v.Set("receipt_amount", total.String())
	return v
}

func (s *Server) signValues(v url.Values, m Misbehave) url.Values {
	for k, vs := range v {
		if len(vs) == 0 || vs[0] == "" {
			v.Del(k)
		}
	}
	key := s.AlipayKey
	if m.BadSignature {
		key = fakewechat.Key(2)
	}
	if s.AlipayCert != nil {
		v.Set("alipay_cert_sn", CertSN(s.AlipayCert))
	}
	v.Set("sign", signBytes(key, []byte(content(v, "sign", "sign_type", "alipay_cert_sn"))))
	return v
}

func (s *Server) paymentValues(id string, t *Trade, m Misbehave) url.Values {
	v := s.base(id, t, m)
	v.Set("trade_status", "TRADE_SUCCESS")
	return s.signValues(v, m)
}

func (s *Server) refundValues(id string, t *Trade, reqNo string, m Misbehave) url.Values {
	v := s.base(id, t, m)
	status := "TRADE_SUCCESS"
	if t.Refunded.Equal(t.Total) {
		status = "TRADE_CLOSED"
		v.Set("gmt_close", time.Now().In(payment.ChinaTime).Format(payment.AlipayTimeLayout))
	}
	v.Set("trade_status", status)
	v.Set("out_biz_no", reqNo)
	v.Set("refund_fee", t.Refunded.String())
	v.Set("gmt_refund", time.Now().In(payment.ChinaTime).Format("2006-01-02 15:04:05.000"))
	return s.signValues(v, m)
}

// PaymentNotification builds a signed TRADE_SUCCESS notification body.
func (s *Server) PaymentNotification(id, outTradeNo string, m Misbehave) (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return formHeader(), []byte(s.paymentValues(id, s.Trades[outTradeNo], m).Encode())
}

// StatusNotification builds a signed notification that only reports the
// trade's state (WAIT_BUYER_PAY after a scan, TRADE_CLOSED after a timeout).
func (s *Server) StatusNotification(id, outTradeNo, status string) (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.base(id, s.Trades[outTradeNo], Misbehave{})
	v.Set("trade_status", status)
	v.Del("gmt_payment")
	return formHeader(), []byte(s.signValues(v, Misbehave{}).Encode())
}

// RefundNotification builds a signed refund notification body.
func (s *Server) RefundNotification(id, outRequestNo string, m Misbehave) (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf := s.Refunds[outRequestNo]
	return formHeader(), []byte(s.refundValues(id, s.Trades[rf.OutTradeNo], outRequestNo, m).Encode())
}

func formHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return h
}

func (s *Server) sendLocked(url string, v url.Values, m Misbehave) {
	if m.Drop || url == "" {
		return
	}
	body := []byte(v.Encode())
	if m.Reorder {
		s.stash = append(s.stash, heldNote{url, body})
		return
	}
	later := s.stash
	s.stash = nil
	copies := 1 + m.Repeat
	go func() {
		if m.Delay > 0 {
			time.Sleep(m.Delay)
		}
		for i := 0; i < copies; i++ {
			s.deliverRetrying(url, body)
		}
		for _, x := range later { // the held-back ones arrive after this one
			s.deliverRetrying(x.url, x.body)
		}
	}()
}

type heldNote struct {
	url  string
	body []byte
}

func (s *Server) deliverRetrying(url string, body []byte) {
	for attempt := 0; attempt < 3; attempt++ {
		st, err := s.Deliver(url, formHeader(), body)
		if err == nil && st == 200 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FlushHeld sends the notifications held back by Reorder.
func (s *Server) FlushHeld() {
	s.mu.Lock()
	later := s.stash
	s.stash = nil
	s.mu.Unlock()
	for _, x := range later {
		s.deliverRetrying(x.url, x.body)
	}
}

// Deliver posts a notification; Alipay wants the text "success" back.
func (s *Server) Deliver(url string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	s.mu.Lock()
	s.Sent++
	s.mu.Unlock()
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode == 200 && strings.TrimSpace(string(b)) != "success" {
		return 500, fmt.Errorf("fakealipay: webhook answered %q, not success", b)
	}
	return resp.StatusCode, nil
}

// Trade returns a copy of a trade.
func (s *Server) Trade(ref string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, found := s.Trades[ref]
	if !found {
		return Trade{}, false
	}
	return *t, true
}

// RefundedTotal is what the fake gave back for a trade, in fen.
func (s *Server) RefundedTotal(ref string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, found := s.Trades[ref]; found {
		return t.Refunded.Cents()
	}
	return 0
}

// Count returns how many calls of an API method the fake answered.
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[method]
}

// SetNext sets the misbehaviour of the next notifications.
func (s *Server) SetNext(m Misbehave) {
	s.mu.Lock()
	s.Next = m
	s.mu.Unlock()
}

// MakeBill writes the day's trade bill (date YYYY-MM-DD) as Alipay does: a
// zip with a 业务明细 and a 汇总 CSV, GBK encoded, with # comment lines.
func (s *Server) MakeBill(date string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d strings.Builder
	d.WriteString("#支付宝业务明细查询\r\n#账号：[" + s.SellerID + "]\r\n#起始日期：[" + date + " 00:00:00]   终止日期：[" + date + " 23:59:59]\r\n")
	d.WriteString("#-----------------------------------------业务明细列表----------------------------------------\r\n")
	d.WriteString("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n")
	n := 0
	for _, t := range s.Trades {
		if t.PaidAt.IsZero() || t.PaidAt.In(payment.ChinaTime).Format("2006-01-02") != date {
			continue
		}
		at := t.PaidAt.In(payment.ChinaTime).Format(payment.AlipayTimeLayout)
		fee := money.FromCents((t.Total.Cents()*6 + 500) / 1000)
		d.WriteString(t.TradeNo + "\t," + t.OutTradeNo + "\t,交易," + t.Subject + "," + at + "," + at + ",,,,,159****5620," + t.Total.String() + "," +
			t.Total.String() + ",0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-" + fee.String() + ",0.00,\r\n")
		n++
	}
	d.WriteString("#-----------------------------------------业务明细列表结束------------------------------------\r\n")
	d.WriteString(fmt.Sprintf("#交易合计：%d笔，商家实收共：…元\r\n#导出时间：[%s]\r\n", n, time.Now().In(payment.ChinaTime).Format(payment.AlipayTimeLayout)))
	gbk := func(s string) []byte {
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			panic(err)
		}
		return b
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	day := strings.ReplaceAll(date, "-", "")
	for name, content := range map[string]string{
		s.SellerID + "0156_" + day + "_业务明细.csv":     d.String(),
		s.SellerID + "0156_" + day + "_业务明细(汇总).csv": "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n,," + fmt.Sprint(n) + "\r\n",
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(gbk(name)), Method: zip.Deflate, NonUTF8: true})
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(gbk(content))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	s.Bills[date] = buf.Bytes()
	return buf.Bytes()
}
