// Package fakewechat is a WeChat Pay v3 test server on the loopback: it
// speaks the documented Native, query, close and refund APIs, checks the
// merchant's request signatures, signs its answers and its notifications
// with a WeChat Pay public key it generates, encrypts notification
// resources with the APIv3 key (AEAD_AES_256_GCM), keeps trades in memory
// and can misbehave on request.
package fakewechat

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"shelin/orders/payment"
)

// Trade is one Native payment the fake knows.
type Trade struct {
	OutTradeNo    string
	Description   string
	Total         int64 // fen
	CodeURL       string
	NotifyURL     string
	State         string // NOTPAY, SUCCESS, CLOSED, REFUND
	TransactionID string
	SuccessTime   time.Time
	Refunded      int64
	ExpireAt      time.Time
}

// Refund is one refund the fake made (by out_refund_no).
type Refund struct {
	OutRefundNo string
	OutTradeNo  string
	RefundID    string
	Amount      int64
	Status      string
	NotifyURL   string
	Calls       int
}

// Misbehave says how the next notifications go wrong.
type Misbehave struct {
	Drop         bool          // never send
	Repeat       int           // send this many extra copies (same id)
	Delay        time.Duration // wait before sending
	WrongAmount  bool          // say one fen more than the trade
	BadSignature bool          // sign with another key
	Age          time.Duration // a timestamp this old
	Reorder      bool          // hold it back until the next notification has gone out
}

// held is a notification held back (Reorder) until the next one is sent.
type held struct {
	url  string
	h    http.Header
	body []byte
}

// Server is the fake.
type Server struct {
	URL            string
	MchID, AppID   string
	APIv3Key       string
	MerchantSerial string
	MerchantKey    *rsa.PrivateKey // the merchant's API key (Shelin signs with it)
	PublicKeyID    string
	PlatformKey    *rsa.PrivateKey // WeChat Pay's key (the fake signs with it)
	// PlatformCert is set in certificate mode (NewWithCertificate): the
	// fake names its serial in Wechatpay-Serial instead of the public key id.
	PlatformCert *x509.Certificate
	Client       *http.Client

	srv *httptest.Server
	mu  sync.Mutex
	// Trades and Refunds are the fake's books.
	Trades  map[string]*Trade
	Refunds map[string]*Refund
	// Next applies to the notifications sent from now on.
	Next Misbehave
	// FailNext makes the next n API calls answer 500 SYSTEM_ERROR.
	FailNext int
	// Requests counts API calls by "METHOD path-prefix".
	Requests map[string]int
	// Sent counts notifications delivered (attempts).
	Sent int
	// Bills are trade bills by date (YYYY-MM-DD) for GET /v3/bill/tradebill.
	Bills map[string][]byte
	stash []held
	// BadBillHash makes the bill's announced SHA1 wrong.
	BadBillHash bool
	seq         int
}

var keyCache struct {
	sync.Mutex
	keys []*rsa.PrivateKey
}

// Key returns a 2048-bit RSA key (generated once per process and reused
// round-robin by index so tests stay fast).
func Key(i int) *rsa.PrivateKey {
	keyCache.Lock()
	defer keyCache.Unlock()
	for len(keyCache.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyCache.keys = append(keyCache.keys, k)
	}
	return keyCache.keys[i]
}

// New starts a fake on 127.0.0.1 with fresh identifiers.
func New() *Server {
	s := &Server{MchID: "1900" + strconv.Itoa(100000+randInt(800000)), AppID: "wx" + randHex(8), APIv3Key: randHex(16),
		MerchantSerial: strings.ToUpper(randHex(20)), MerchantKey: Key(0), PublicKeyID: "PUB_KEY_ID_" + strings.ToUpper(randHex(12)),
		PlatformKey: Key(1), Trades: map[string]*Trade{}, Refunds: map[string]*Refund{}, Requests: map[string]int{}, Bills: map[string][]byte{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	s.Client = &http.Client{Timeout: 10 * time.Second}
	return s
}

// NewWithCertificate starts a fake in the older platform-certificate mode.
func NewWithCertificate() *Server {
	s := New()
	serial := make([]byte, 16)
	if _, err := rand.Read(serial); err != nil {
		panic(err)
	}
	serial[0] = 0x5f // positive, no leading zero
	tmpl := &x509.Certificate{SerialNumber: new(big.Int).SetBytes(serial),
		Subject:   pkix.Name{CommonName: "Tenpay.com Root CA fake", Organization: []string{"财付通支付科技有限公司"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &s.PlatformKey.PublicKey, s.PlatformKey)
	if err != nil {
		panic(err)
	}
	if s.PlatformCert, err = x509.ParseCertificate(der); err != nil {
		panic(err)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) serial() string {
	if s.PlatformCert != nil {
		return payment.CertSerial(s.PlatformCert)
	}
	return s.PublicKeyID
}

// Settings is the merchant account Shelin stores for this fake.
func (s *Server) Settings() payment.WeChatSettings {
	if s.PlatformCert != nil {
		return payment.WeChatSettings{MchID: s.MchID, AppID: s.AppID, SerialNo: s.MerchantSerial, PrivateKeyPEM: payment.PEMPrivateKey(s.MerchantKey),
			APIv3Key: s.APIv3Key, PlatformCertsPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.PlatformCert.Raw}))}
	}
	return payment.WeChatSettings{MchID: s.MchID, AppID: s.AppID, SerialNo: s.MerchantSerial, PrivateKeyPEM: payment.PEMPrivateKey(s.MerchantKey),
		APIv3Key: s.APIv3Key, PublicKeyID: s.PublicKeyID, PublicKeyPEM: payment.PEMPublicKey(&s.PlatformKey.PublicKey)}
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func randInt(n int) int {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return int(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) % n
}

var authRe = regexp.MustCompile(`(\w+)="([^"]*)"`)

func (s *Server) verifyRequest(r *http.Request, body []byte) error {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "WECHATPAY2-SHA256-RSA2048 ") {
		return fmt.Errorf("missing WECHATPAY2-SHA256-RSA2048 authorization")
	}
	f := map[string]string{}
	for _, m := range authRe.FindAllStringSubmatch(h, -1) {
		f[m[1]] = m[2]
	}
	if f["mchid"] != s.MchID || f["serial_no"] != s.MerchantSerial {
		return fmt.Errorf("unknown merchant %s / serial %s", f["mchid"], f["serial_no"])
	}
	ts, _ := strconv.ParseInt(f["timestamp"], 10, 64)
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("request timestamp expired")
	}
	msg := r.Method + "\n" + r.URL.RequestURI() + "\n" + f["timestamp"] + "\n" + f["nonce_str"] + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(f["signature"])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(msg))
	return rsa.VerifyPKCS1v15(&s.MerchantKey.PublicKey, crypto.SHA256, sum[:], sig)
}

// sign returns the Wechatpay-* headers for body, signed by key at t.
func (s *Server) sign(key *rsa.PrivateKey, t time.Time, body []byte) http.Header {
	nonce := randHex(16)
	ts := strconv.FormatInt(t.Unix(), 10)
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set(payment.WechatpayTimestamp, ts)
	h.Set(payment.WechatpayNonce, nonce)
	h.Set(payment.WechatpaySignature, base64.StdEncoding.EncodeToString(sig))
	h.Set(payment.WechatpaySerial, s.serial())
	h.Set("Request-Id", "req-"+randHex(8))
	return h
}

func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	for k, vs := range s.sign(s.PlatformKey, time.Now(), body) {
		w.Header()[k] = vs
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	s.reply(w, status, map[string]string{"code": code, "message": msg})
}

var (
	reQuery     = regexp.MustCompile(`^/v3/pay/transactions/out-trade-no/([^/]+)$`)
	reClose     = regexp.MustCompile(`^/v3/pay/transactions/out-trade-no/([^/]+)/close$`)
	reRefundGet = regexp.MustCompile(`^/v3/refund/domestic/refunds/([^/]+)$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	for _, p := range []string{"/v3/pay/transactions/out-trade-no/", "/v3/refund/domestic/refunds/"} {
		if strings.HasPrefix(r.URL.Path, p) && r.Method == http.MethodGet {
			key = "GET " + p
		}
	}
	if strings.HasSuffix(r.URL.Path, "/close") {
		key = "POST close"
	}
	s.Requests[key]++
	if err := s.verifyRequest(r, body); err != nil {
		s.fail(w, http.StatusUnauthorized, "SIGN_ERROR", err.Error())
		return
	}
	if s.FailNext > 0 {
		s.FailNext--
		s.fail(w, http.StatusInternalServerError, "SYSTEM_ERROR", "系统繁忙")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3/pay/transactions/native":
		s.native(w, body)
	case r.Method == http.MethodGet && reQuery.MatchString(r.URL.Path):
		s.query(w, reQuery.FindStringSubmatch(r.URL.Path)[1], r.URL.Query().Get("mchid"))
	case r.Method == http.MethodPost && reClose.MatchString(r.URL.Path):
		s.close(w, reClose.FindStringSubmatch(r.URL.Path)[1])
	case r.Method == http.MethodPost && r.URL.Path == "/v3/refund/domestic/refunds":
		s.refund(w, body)
	case r.Method == http.MethodGet && reRefundGet.MatchString(r.URL.Path):
		rf, ok := s.Refunds[reRefundGet.FindStringSubmatch(r.URL.Path)[1]]
		if !ok {
			s.fail(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
			return
		}
		s.reply(w, http.StatusOK, s.refundJSON(rf))
	case r.Method == http.MethodGet && r.URL.Path == "/v3/bill/tradebill":
		s.tradeBill(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/v3/billdownload/file":
		b, ok := s.Bills[r.URL.Query().Get("date")]
		if !ok {
			s.fail(w, http.StatusNotFound, "NO_STATEMENT_EXIST", "账单不存在")
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	default:
		s.fail(w, http.StatusNotFound, "NOT_FOUND", "no such API "+r.URL.Path)
	}
}

func (s *Server) native(w http.ResponseWriter, body []byte) {
	var req struct {
		AppID       string     `json:"appid"`
		MchID       string     `json:"mchid"`
		Description string     `json:"description"`
		OutTradeNo  string     `json:"out_trade_no"`
		TimeExpire  *time.Time `json:"time_expire"`
		NotifyURL   string     `json:"notify_url"`
		Amount      struct {
			Total    int64  `json:"total"`
			Currency string `json:"currency"`
		} `json:"amount"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.OutTradeNo == "" || req.Amount.Total <= 0 || req.NotifyURL == "" {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "参数错误")
		return
	}
	if req.AppID != s.AppID || req.MchID != s.MchID {
		s.fail(w, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
		return
	}
	if t, ok := s.Trades[req.OutTradeNo]; ok {
		switch {
		case t.State == "SUCCESS" || t.State == "REFUND":
			s.fail(w, http.StatusBadRequest, "ORDERPAID", "该订单已支付")
		case t.Total != req.Amount.Total:
			s.fail(w, http.StatusBadRequest, "OUT_TRADE_NO_USED", "商户订单号重复")
		default:
			s.reply(w, http.StatusOK, map[string]string{"code_url": t.CodeURL})
		}
		return
	}
	t := &Trade{OutTradeNo: req.OutTradeNo, Description: req.Description, Total: req.Amount.Total,
		CodeURL: "weixin://wxpay/bizpayurl?pr=" + randHex(5), NotifyURL: req.NotifyURL, State: "NOTPAY"}
	if req.TimeExpire != nil {
		t.ExpireAt = *req.TimeExpire
	}
	s.Trades[req.OutTradeNo] = t
	s.reply(w, http.StatusOK, map[string]string{"code_url": t.CodeURL})
}

func (s *Server) transactionJSON(t *Trade, total int64) map[string]any {
	m := map[string]any{"appid": s.AppID, "mchid": s.MchID, "out_trade_no": t.OutTradeNo, "trade_state": t.State,
		"trade_state_desc": t.State, "trade_type": "NATIVE", "amount": map[string]any{"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"}}
	if t.TransactionID != "" {
		m["transaction_id"] = t.TransactionID
		m["success_time"] = t.SuccessTime.Format(time.RFC3339)
		m["payer"] = map[string]string{"openid": "oFake" + t.OutTradeNo}
		m["bank_type"] = "OTHERS"
	}
	return m
}

func (s *Server) query(w http.ResponseWriter, ref, mchid string) {
	if mchid != s.MchID {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "mchid")
		return
	}
	t, ok := s.Trades[ref]
	if !ok {
		s.fail(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	s.expire(t)
	s.reply(w, http.StatusOK, s.transactionJSON(t, t.Total))
}

func (s *Server) expire(t *Trade) {
	if t.State == "NOTPAY" && !t.ExpireAt.IsZero() && time.Now().After(t.ExpireAt.Add(time.Minute)) {
		t.State = "CLOSED"
	}
}

func (s *Server) close(w http.ResponseWriter, ref string) {
	t, ok := s.Trades[ref]
	if !ok {
		s.fail(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	if t.State == "SUCCESS" || t.State == "REFUND" {
		s.fail(w, http.StatusBadRequest, "ORDERPAID", "订单已支付")
		return
	}
	t.State = "CLOSED"
	s.reply(w, http.StatusNoContent, nil)
}

func (s *Server) refundJSON(rf *Refund) map[string]any {
	t := s.Trades[rf.OutTradeNo]
	return map[string]any{"refund_id": rf.RefundID, "out_refund_no": rf.OutRefundNo, "transaction_id": t.TransactionID, "out_trade_no": t.OutTradeNo,
		"channel": "ORIGINAL", "user_received_account": "支付用户零钱", "status": rf.Status, "create_time": time.Now().Format(time.RFC3339),
		"success_time": time.Now().Format(time.RFC3339),
		"amount": map[string]any{"total": t.Total, "refund": rf.Amount, "payer_total": t.Total, "payer_refund": rf.Amount, "settlement_refund": rf.Amount,
			"settlement_total": t.Total, "discount_refund": 0, "currency": "CNY"}}
}

func (s *Server) refund(w http.ResponseWriter, body []byte) {
	var req struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		NotifyURL   string `json:"notify_url"`
		Amount      struct {
			Refund int64 `json:"refund"`
			Total  int64 `json:"total"`
		} `json:"amount"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.OutRefundNo == "" || req.Amount.Refund <= 0 {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "参数错误")
		return
	}
	if rf, ok := s.Refunds[req.OutRefundNo]; ok {
		rf.Calls++
		s.reply(w, http.StatusOK, s.refundJSON(rf))
		return
	}
	t, ok := s.Trades[req.OutTradeNo]
	if !ok || (t.State != "SUCCESS" && t.State != "REFUND") {
		s.fail(w, http.StatusBadRequest, "INVALID_REQUEST", "订单未支付")
		return
	}
	if req.Amount.Total != t.Total {
		s.fail(w, http.StatusBadRequest, "INVALID_REQUEST", "订单金额不一致")
		return
	}
	if t.Refunded+req.Amount.Refund > t.Total {
		s.fail(w, http.StatusForbidden, "NOT_ENOUGH", "可退金额不足")
		return
	}
	t.Refunded += req.Amount.Refund
	t.State = "REFUND"
	s.seq++
	rf := &Refund{OutRefundNo: req.OutRefundNo, OutTradeNo: t.OutTradeNo, RefundID: fmt.Sprintf("50300%015d", s.seq), Amount: req.Amount.Refund,
		Status: "SUCCESS", NotifyURL: req.NotifyURL, Calls: 1}
	s.Refunds[req.OutRefundNo] = rf
	s.reply(w, http.StatusOK, s.refundJSON(rf))
	if rf.NotifyURL != "" {
		h, b := s.refundNotification("EV-"+randHex(8), rf, "REFUND.SUCCESS", s.Next)
		s.sendLocked(rf.NotifyURL, h, b, s.Next)
	}
}

// Pay is the customer scanning and paying in WeChat: the trade succeeds and
// its notification goes out (as Next says). Paying a closed or expired
// trade fails as WeChat would, unless late is set (a payment racing the close).
func (s *Server) Pay(outTradeNo string, late bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.Trades[outTradeNo]
	if !ok {
		return fmt.Errorf("fakewechat: no trade %s", outTradeNo)
	}
	if t.State == "SUCCESS" {
		return nil
	}
	if t.State != "NOTPAY" && !late {
		return fmt.Errorf("fakewechat: trade %s is %s", outTradeNo, t.State)
	}
	s.seq++
	t.State, t.TransactionID, t.SuccessTime = "SUCCESS", fmt.Sprintf("4200%016d", s.seq), time.Now()
	h, b := s.paymentNotification("EV-"+randHex(8), t, s.Next)
	s.sendLocked(t.NotifyURL, h, b, s.Next)
	return nil
}

// PaymentNotification builds a signed, encrypted TRANSACTION.SUCCESS for a
// paid trade with the given event id (the test posts it itself).
func (s *Server) PaymentNotification(id, outTradeNo string, m Misbehave) (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paymentNotification(id, s.Trades[outTradeNo], m)
}

// RefundNotification builds a signed refund notification (event REFUND.SUCCESS
// or REFUND.ABNORMAL) for a refund the fake made.
func (s *Server) RefundNotification(id, outRefundNo, event string, m Misbehave) (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refundNotification(id, s.Refunds[outRefundNo], event, m)
}

func (s *Server) paymentNotification(id string, t *Trade, m Misbehave) (http.Header, []byte) {
	total := t.Total
	if m.WrongAmount {
		total++
	}
	res, _ := json.Marshal(s.transactionJSON(t, total))
	return s.notice(id, "TRANSACTION.SUCCESS", "transaction", "支付成功", res, m)
}

func (s *Server) refundNotification(id string, rf *Refund, event string, m Misbehave) (http.Header, []byte) {
	t := s.Trades[rf.OutTradeNo]
	status := "SUCCESS"
	if event != "REFUND.SUCCESS" {
		status = "ABNORMAL"
	}
	res, _ := json.Marshal(map[string]any{"mchid": s.MchID, "out_trade_no": t.OutTradeNo, "transaction_id": t.TransactionID,
		"out_refund_no": rf.OutRefundNo, "refund_id": rf.RefundID, "refund_status": status, "success_time": time.Now().Format(time.RFC3339),
		"user_received_account": "支付用户零钱", "amount": map[string]any{"total": t.Total, "refund": rf.Amount, "payer_total": t.Total, "payer_refund": rf.Amount}})
	return s.notice(id, event, "refund", "退款状态变更", res, m)
}

func (s *Server) notice(id, event, original, summary string, resource []byte, m Misbehave) (http.Header, []byte) {
	nonce := randHex(6)
	aad := original
	block, _ := aes.NewCipher([]byte(s.APIv3Key))
	g, _ := cipher.NewGCM(block)
	ct := g.Seal(nil, []byte(nonce), resource, []byte(aad))
	at := time.Now().Add(-m.Age)
	body, _ := json.Marshal(map[string]any{"id": id, "create_time": at.Format(time.RFC3339), "event_type": event, "resource_type": "encrypt-resource",
		"summary": summary, "resource": map[string]string{"original_type": original, "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": base64.StdEncoding.EncodeToString(ct), "associated_data": aad, "nonce": nonce}})
	key := s.PlatformKey
	if m.BadSignature {
		key = Key(2)
	}
	h := s.sign(key, at, body)
	h.Set("Content-Type", "application/json")
	return h, body
}

// sendLocked delivers a notification in the background as Next says,
// retrying a few times on failure as WeChat does (shortened).
func (s *Server) sendLocked(url string, h http.Header, body []byte, m Misbehave) {
	if m.Drop || url == "" {
		return
	}
	if m.Reorder {
		s.stash = append(s.stash, held{url, h, body})
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
			s.deliverRetrying(url, h, body)
		}
		for _, x := range later { // the held-back ones arrive after this one
			s.deliverRetrying(x.url, x.h, x.body)
		}
	}()
}

func (s *Server) deliverRetrying(url string, h http.Header, body []byte) {
	for attempt := 0; attempt < 3; attempt++ {
		st, err := s.Deliver(url, h, body)
		if err == nil && st/100 == 2 {
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
		s.deliverRetrying(x.url, x.h, x.body)
	}
}

// Deliver posts a notification and returns the status the webhook answered.
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
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// Trade returns a copy of a trade.
func (s *Server) Trade(ref string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.Trades[ref]
	if !ok {
		return Trade{}, false
	}
	return *t, true
}

// RefundedTotal is what the fake gave back for a trade, in fen.
func (s *Server) RefundedTotal(ref string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.Trades[ref]; ok {
		return t.Refunded
	}
	return 0
}

// Count returns how many calls of a kind the fake answered.
func (s *Server) Count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[key]
}

// SetFailNext makes the next n API calls answer 500 SYSTEM_ERROR.
func (s *Server) SetFailNext(n int) {
	s.mu.Lock()
	s.FailNext = n
	s.mu.Unlock()
}

// SetNext sets the misbehaviour of the next notifications.
func (s *Server) SetNext(m Misbehave) {
	s.mu.Lock()
	s.Next = m
	s.mu.Unlock()
}

// tradeBill answers GET /v3/bill/tradebill with a download_url for the
// day's bill and its SHA1.
func (s *Server) tradeBill(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("bill_date")
	b, ok := s.Bills[date]
	if !ok {
		s.fail(w, http.StatusBadRequest, "NO_STATEMENT_EXIST", "账单文件不存在")
		return
	}
	sum := sha1.Sum(b)
	if s.BadBillHash {
		sum = sha1.Sum(append([]byte("x"), b...))
	}
	s.reply(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": s.URL + "/v3/billdownload/file?date=" + date})
}

// billHeader is the trade bill's 27 columns (bill_type ALL).
var billHeader = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态",
	"付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
	"商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}

// MakeBill writes the day's trade bill (date YYYY-MM-DD, China time) from
// the paid trades, as WeChat does: backtick-prefixed fields and two summary
// lines; GET /v3/bill/tradebill then offers it with its SHA1.
func (s *Server) MakeBill(date string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	cst := time.FixedZone("CST", 8*3600)
	var b strings.Builder
	b.WriteString(strings.Join(billHeader, ",") + "\r\n")
	n, total, fees := 0, int64(0), int64(0)
	yuan := func(f int64) string { return fmt.Sprintf("%d.%02d", f/100, f%100) }
	for _, t := range s.Trades {
		if t.TransactionID == "" || t.SuccessTime.In(cst).Format("2006-01-02") != date {
			continue
		}
		fee := (t.Total*6 + 500) / 1000
		f := []string{t.SuccessTime.In(cst).Format("2006-01-02 15:04:05"), s.AppID, s.MchID, "0", "", t.TransactionID, t.OutTradeNo, "oFake",
			"NATIVE", "SUCCESS", "OTHERS", "CNY", yuan(t.Total), "0.00", "0", "0", "0.00", "0.00", "", "", t.Description, "", yuan(fee), "0.60%",
			yuan(t.Total), "0.00", ""}
		for i := range f {
			f[i] = "`" + f[i]
		}
		b.WriteString(strings.Join(f, ",") + "\r\n")
		n, total, fees = n+1, total+t.Total, fees+fee
	}
	b.WriteString("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
	b.WriteString(fmt.Sprintf("`%d,`%s,`0.00,`0.00,`%s,`%s,`0.00\r\n", n, yuan(total), yuan(fees), yuan(total)))
	out := []byte(b.String())
	s.Bills[date] = out
	return out
}
