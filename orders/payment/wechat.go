package payment

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// WeChatHost is WeChat Pay's API host.
const WeChatHost = "https://api.mch.weixin.qq.com"

// Remote is implemented by providers whose Create is a call to a provider's
// servers: checkout must not call it inside its transaction. It records the
// intent instead; the call happens after commit (pos: the outbox of
// creates), and Create is then called with a nil transaction.
type Remote interface {
	RemoteCreate() bool
}

// IsRemote reports whether a provider's Create is a remote call.
func IsRemote(p Provider) bool {
	r, ok := p.(Remote)
	return ok && r.RemoteCreate()
}

// WeChatProvider is WeChat Pay v3 Native (扫码支付) over the official SDK,
// one merchant account per community (Merchants). The SDK has no base-URL
// option: its HTTP client's transport sends every request to Host instead
// (the request signature covers only the path).
type WeChatProvider struct {
	Merchants *Merchants
	// Host is the API host (default WeChatHost; tests point it at fakewechat).
	Host string
	// NotifyURL is where WeChat posts payment and refund notifications
	// (BaseURL + /api/v1/webhooks/wechatpay).
	NotifyURL string
	// Transport is the base transport (default http.DefaultTransport).
	Transport http.RoundTripper
	Now       func() time.Time

	mu      sync.Mutex
	clients map[string]wechatClient // by community
}

type wechatClient struct {
	version int
	c       *core.Client
	s       *WeChatSettings
}

func (w *WeChatProvider) Name() string       { return WeChatPay }
func (w *WeChatProvider) Method() string     { return "qr" }
func (w *WeChatProvider) RemoteCreate() bool { return true }

func (w *WeChatProvider) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// hostTransport sends every request to one scheme://host.
type hostTransport struct {
	base   http.RoundTripper
	scheme string
	host   string
}

func (t hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = t.scheme, t.host, t.host
	return t.base.RoundTrip(r2)
}

// HTTPClientFor returns an HTTP client that sends everything to host
// (scheme://host[:port]); "" keeps the URLs as they are.
func HTTPClientFor(host string, base http.RoundTripper, timeout time.Duration) (*http.Client, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if host == "" {
		return &http.Client{Transport: base, Timeout: timeout}, nil
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("payment: bad provider host %q", host)
	}
	return &http.Client{Transport: hostTransport{base: base, scheme: u.Scheme, host: u.Host}, Timeout: timeout}, nil
}

// wechatVerifier is what checks WeChat's signatures for an account.
func wechatVerifier(s *WeChatSettings) (auth.Verifier, error) {
	if s.PublicKeyID != "" {
		pub, err := ParseRSAPublicKey(s.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		return verifiers.NewSHA256WithRSAPubkeyVerifier(s.PublicKeyID, *pub), nil
	}
	certs, err := ParseCertificates(s.PlatformCertsPEM)
	if err != nil {
		return nil, err
	}
	m := map[string]*rsa.PublicKey{}
	for _, c := range certs {
		if pk, ok := c.PublicKey.(*rsa.PublicKey); ok {
			m[CertSerial(c)] = pk
		}
	}
	return certVerifier(m), nil
}

// certVerifier verifies with one of the platform certificates (by serial).
type certVerifier map[string]*rsa.PublicKey

func (v certVerifier) GetSerial(context.Context) (string, error) {
	for k := range v {
		return k, nil
	}
	return "", errors.New("no platform certificate")
}

func (v certVerifier) Verify(ctx context.Context, serial, message, signature string) error {
	pk, ok := v[strings.ToUpper(serial)]
	if !ok {
		return fmt.Errorf("no platform certificate with serial %s", serial)
	}
	return verifiers.NewSHA256WithRSAPubkeyVerifier(serial, *pk).Verify(ctx, serial, message, signature)
}

// Client returns the SDK client of a community's account (cached until the
// settings change).
func (w *WeChatProvider) Client(ctx context.Context, communityID string) (*core.Client, *WeChatSettings, error) {
	s, m, err := w.Merchants.WeChat(ctx, communityID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil, apperr.Conflictf("WeChat Pay is not set up for this community: an admin enters the merchant account first")
		}
		return nil, nil, err
	}
	w.mu.Lock()
	if c, ok := w.clients[communityID]; ok && c.version == m.Version {
		w.mu.Unlock()
		return c.c, c.s, nil
	}
	w.mu.Unlock()
	key, err := ParseRSAPrivateKey(s.PrivateKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("payment: wechat private key: %w", err)
	}
	host := w.Host
	if host == "" {
		host = WeChatHost
	}
	hc, err := HTTPClientFor(host, w.Transport, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	opts := []core.ClientOption{option.WithHTTPClient(hc)}
	if s.PublicKeyID != "" {
		pub, err := ParseRSAPublicKey(s.PublicKeyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("payment: wechat public key: %w", err)
		}
		opts = append(opts, option.WithWechatPayPublicKeyAuthCipher(s.MchID, s.SerialNo, key, s.PublicKeyID, pub))
	} else {
		certs, err := ParseCertificates(s.PlatformCertsPEM)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, option.WithWechatPayAuthCipher(s.MchID, s.SerialNo, key, certs))
	}
	c, err := core.NewClient(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("payment: wechat client: %w", err)
	}
	w.mu.Lock()
	if w.clients == nil {
		w.clients = map[string]wechatClient{}
	}
	w.clients[communityID] = wechatClient{version: m.Version, c: c, s: s}
	w.mu.Unlock()
	return c, s, nil
}

func (w *WeChatProvider) clientOfRef(ctx context.Context, merchantRef string) (*core.Client, *WeChatSettings, error) {
	cid, err := w.Merchants.CommunityOfRef(ctx, merchantRef)
	if err != nil {
		return nil, nil, err
	}
	return w.Client(ctx, cid)
}

// wechatErr turns an SDK error into Shelin's kinds: a 4xx WeChat answers is
// a refusal (conflict or invalid: retrying cannot help), anything else
// (5xx, network, a response whose signature fails) stays a plain error so
// the caller retries.
func wechatErr(op string, err error) error {
	var ae *core.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("wechatpay %s: %s %s", op, ae.Code, ae.Message)
		switch {
		case ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500:
			return fmt.Errorf("%s (HTTP %d)", msg, ae.StatusCode)
		case ae.StatusCode == http.StatusNotFound || ae.Code == "ORDER_NOT_EXIST" || ae.Code == "RESOURCE_NOT_EXISTS":
			return apperr.NotFoundf("%s", msg)
		case ae.Code == "ORDERPAID" || ae.Code == "ORDER_CLOSED" || ae.Code == "NOT_ENOUGH" || ae.Code == "OUT_TRADE_NO_USED":
			return apperr.Conflictf("%s", msg)
		case ae.StatusCode >= 400:
			return apperr.New(apperr.Invalid, "%s", msg)
		}
	}
	return fmt.Errorf("wechatpay %s: %w", op, err)
}

// Create asks WeChat for a Native payment (POST /v3/pay/transactions/native)
// and returns its code_url. It is a remote call, made outside any
// transaction (tx is nil; see Remote). Asking again for the same
// out_trade_no with the same amount answers the same code_url.
func (w *WeChatProvider) Create(ctx context.Context, _ *sqlx.Tx, req CreateRequest) (Created, error) {
	c, s, err := w.Client(ctx, req.CommunityID)
	if err != nil {
		return Created{}, err
	}
	pr := native.PrepayRequest{Appid: core.String(s.AppID), Mchid: core.String(s.MchID), Description: core.String(truncateBytes(req.Description, 127)),
		OutTradeNo: core.String(req.MerchantRef), NotifyUrl: core.String(w.NotifyURL),
		Amount: &native.Amount{Total: core.Int64(req.Amount.Cents()), Currency: core.String("CNY")}}
	if !req.ExpiresAt.IsZero() {
		// WeChat wants yyyy-MM-DDTHH:mm:ss+08:00.
		t := req.ExpiresAt.In(ChinaTime).Truncate(time.Second)
		pr.TimeExpire = &t
	}
	resp, _, err := (&native.NativeApiService{Client: c}).Prepay(ctx, pr)
	if err != nil {
		return Created{}, wechatErr("prepay", err)
	}
	if resp.CodeUrl == nil || *resp.CodeUrl == "" {
		return Created{}, errors.New("wechatpay prepay: no code_url in the answer")
	}
	return Created{QRPayload: *resp.CodeUrl, ProviderRef: req.MerchantRef}, nil
}

// Query asks WeChat about a payment by out_trade_no. A trade WeChat does not
// know (never created) is pending: nothing was paid.
func (w *WeChatProvider) Query(ctx context.Context, merchantRef string) (QueryResult, error) {
	c, s, err := w.clientOfRef(ctx, merchantRef)
	if err != nil {
		return QueryResult{}, err
	}
	t, _, err := (&native.NativeApiService{Client: c}).QueryOrderByOutTradeNo(ctx, native.QueryOrderByOutTradeNoRequest{
		OutTradeNo: core.String(merchantRef), Mchid: core.String(s.MchID)})
	if err != nil {
		err = wechatErr("query", err)
		if apperr.Is(err, apperr.NotFound) {
			return QueryResult{Status: StatusPending}, nil
		}
		return QueryResult{}, err
	}
	if t.Mchid != nil && *t.Mchid != s.MchID {
		return QueryResult{}, fmt.Errorf("wechatpay query: answer for merchant %s, not ours", *t.Mchid)
	}
	r := QueryResult{Status: StatusPending}
	if t.Amount != nil && t.Amount.Total != nil {
		r.Amount = money.FromCents(*t.Amount.Total)
	}
	if t.TransactionId != nil {
		r.TxnID = *t.TransactionId
	}
	state := ""
	if t.TradeState != nil {
		state = *t.TradeState
	}
	switch state {
	case "SUCCESS", "REFUND":
		r.Status = StatusSucceeded
		if t.SuccessTime != nil {
			r.PaidAt, _ = time.Parse(time.RFC3339, *t.SuccessTime)
		}
		if t.Amount != nil && t.Amount.PayerTotal != nil && t.Amount.Total == nil {
			r.Amount = money.FromCents(*t.Amount.PayerTotal)
		}
	case "CLOSED", "REVOKED":
		r.Status = StatusClosed
	case "PAYERROR":
		r.Status = StatusFailed
	}
	return r, nil
}

// Close closes an unpaid trade. A trade already paid is a conflict; one
// WeChat does not know has nothing to close.
func (w *WeChatProvider) Close(ctx context.Context, merchantRef string) error {
	c, s, err := w.clientOfRef(ctx, merchantRef)
	if err != nil {
		return err
	}
	_, err = (&native.NativeApiService{Client: c}).CloseOrder(ctx, native.CloseOrderRequest{OutTradeNo: core.String(merchantRef), Mchid: core.String(s.MchID)})
	if err != nil {
		err = wechatErr("close", err)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if apperr.Is(err, apperr.Conflict) {
			return apperr.Conflictf("the customer has already paid %s", merchantRef)
		}
		return err
	}
	return nil
}

// Refund asks WeChat to refund (POST /v3/refund/domestic/refunds) with
// out_refund_no = the refund id: WeChat refunds one out_refund_no once, so a
// retry answers the first refund.
func (w *WeChatProvider) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	c, _, err := w.clientOfRef(ctx, r.MerchantRef)
	if err != nil {
		return RefundResult{}, err
	}
	svc := refunddomestic.RefundsApiService{Client: c}
	resp, _, err := svc.Create(ctx, refunddomestic.CreateRequest{OutTradeNo: core.String(r.MerchantRef), OutRefundNo: core.String(r.RefundID),
		Reason: core.String(truncate(r.Reason, 80)), NotifyUrl: core.String(w.NotifyURL),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(r.Amount.Cents()), Total: core.Int64(r.Total.Cents()), Currency: core.String("CNY")}})
	if err != nil {
		return RefundResult{}, wechatErr("refund", err)
	}
	return wechatRefundResult(resp), nil
}

// RefundStatus asks WeChat about a refund by out_refund_no.
func (w *WeChatProvider) RefundStatus(ctx context.Context, merchantRef, refundID string) (RefundResult, error) {
	c, _, err := w.clientOfRef(ctx, merchantRef)
	if err != nil {
		return RefundResult{}, err
	}
	resp, _, err := (&refunddomestic.RefundsApiService{Client: c}).QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(refundID)})
	if err != nil {
		return RefundResult{}, wechatErr("refund query", err)
	}
	return wechatRefundResult(resp), nil
}

func wechatRefundResult(r *refunddomestic.Refund) RefundResult {
	out := RefundResult{Status: StatusPending}
	if r.RefundId != nil {
		out.ProviderRef = *r.RefundId
	}
	if r.Status != nil {
		switch *r.Status {
		case refunddomestic.STATUS_SUCCESS:
			out.Status = StatusSucceeded
		case refunddomestic.STATUS_CLOSED, refunddomestic.STATUS_ABNORMAL:
			out.Status = StatusFailed
		}
	}
	return out
}

// WeChat notification headers.
const (
	WechatpayTimestamp = "Wechatpay-Timestamp"
	WechatpayNonce     = "Wechatpay-Nonce"
	WechatpaySignature = "Wechatpay-Signature"
	WechatpaySerial    = "Wechatpay-Serial"
)

// WeChatNotice is the body WeChat posts (the resource is encrypted).
type WeChatNotice struct {
	ID           string `json:"id"`
	CreateTime   string `json:"create_time"`
	EventType    string `json:"event_type"`
	ResourceType string `json:"resource_type"`
	Summary      string `json:"summary"`
	Resource     struct {
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		OriginalType   string `json:"original_type"`
		Nonce          string `json:"nonce"`
	} `json:"resource"`
}

// WeChatTransaction is a decrypted payment notification's resource.
type WeChatTransaction struct {
	MchID         string `json:"mchid"`
	AppID         string `json:"appid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	TradeState    string `json:"trade_state"`
	SuccessTime   string `json:"success_time"`
	Amount        struct {
		Total      int64  `json:"total"`
		PayerTotal int64  `json:"payer_total"`
		Currency   string `json:"currency"`
	} `json:"amount"`
}

// WeChatRefundResource is a decrypted refund notification's resource.
type WeChatRefundResource struct {
	MchID         string `json:"mchid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	OutRefundNo   string `json:"out_refund_no"`
	RefundID      string `json:"refund_id"`
	RefundStatus  string `json:"refund_status"`
	SuccessTime   string `json:"success_time"`
	Amount        struct {
		Total  int64 `json:"total"`
		Refund int64 `json:"refund"`
	} `json:"amount"`
}

// ParseNotification verifies a WeChat callback — the signature over
// "timestamp\nnonce\nbody\n" with the account's WeChat Pay public key or
// platform certificate named by Wechatpay-Serial, the timestamp within 5
// minutes of now — decrypts its resource (AEAD_AES_256_GCM with the APIv3
// key) and checks that the merchant and app are those of the payment's
// community.
func (w *WeChatProvider) ParseNotification(h http.Header, body []byte, now time.Time) (Notification, error) {
	ctx := context.Background()
	ts, nonce, sig, serial := h.Get(WechatpayTimestamp), h.Get(WechatpayNonce), h.Get(WechatpaySignature), h.Get(WechatpaySerial)
	if ts == "" || nonce == "" || sig == "" || serial == "" {
		return Notification{}, apperr.New(apperr.Invalid, "missing Wechatpay-* signature headers")
	}
	if st := h.Get("Wechatpay-Signature-Type"); st != "" && st != "WECHATPAY2-SHA256-RSA2048" {
		return Notification{}, apperr.New(apperr.Invalid, "unsupported Wechatpay-Signature-Type %q", st)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "malformed Wechatpay-Timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return Notification{}, apperr.New(apperr.Invalid, "notification timestamp is more than 5 minutes away from now")
	}
	cids, err := w.Merchants.CommunitiesByKey(ctx, serial)
	if err != nil {
		return Notification{}, err
	}
	message := ts + "\n" + nonce + "\n" + string(body) + "\n"
	var n WeChatNotice
	if err := json.Unmarshal(body, &n); err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "notification body is not valid JSON")
	}
	if n.ID == "" || n.Resource.Algorithm != "AEAD_AES_256_GCM" {
		return Notification{}, apperr.New(apperr.Invalid, "notification needs an id and an AEAD_AES_256_GCM resource")
	}
	// The account is the one whose key verifies the signature and whose
	// APIv3 key opens the resource (several accounts may name one key id).
	var s *WeChatSettings
	var cid, plain string
	verified := false
	for _, c := range cids {
		cs, _, err := w.Merchants.WeChat(ctx, c)
		if err != nil {
			return Notification{}, err
		}
		v, err := wechatVerifier(cs)
		if err != nil || v.Verify(ctx, serial, message, sig) != nil {
			continue
		}
		verified = true
		if p, err := utils.DecryptAES256GCM(cs.APIv3Key, n.Resource.AssociatedData, n.Resource.Nonce, n.Resource.Ciphertext); err == nil {
			s, cid, plain = cs, c, p
			break
		}
	}
	if !verified {
		return Notification{}, apperr.New(apperr.Invalid, "notification signature does not match")
	}
	if s == nil {
		return Notification{}, apperr.New(apperr.Invalid, "notification resource cannot be decrypted")
	}
	created, _ := time.Parse(time.RFC3339, n.CreateTime)
	out := Notification{Provider: WeChatPay, ID: n.ID, Created: created}
	var mchid, ref string
	switch {
	case n.EventType == "TRANSACTION.SUCCESS":
		var t WeChatTransaction
		if err := json.Unmarshal([]byte(plain), &t); err != nil {
			return Notification{}, apperr.New(apperr.Invalid, "notification resource is not a transaction")
		}
		if t.AppID != s.AppID {
			return Notification{}, apperr.New(apperr.Invalid, "notification is for app %s, not this merchant's", t.AppID)
		}
		if t.TradeState != "SUCCESS" {
			return Notification{}, apperr.New(apperr.Invalid, "payment notification with trade_state %s", t.TradeState)
		}
		mchid, ref = t.MchID, t.OutTradeNo
		out.Type, out.MerchantRef, out.TxnID, out.Amount = PaymentSucceeded, t.OutTradeNo, t.TransactionID, money.FromCents(t.Amount.Total)
	case strings.HasPrefix(n.EventType, "REFUND."):
		var r WeChatRefundResource
		if err := json.Unmarshal([]byte(plain), &r); err != nil {
			return Notification{}, apperr.New(apperr.Invalid, "notification resource is not a refund")
		}
		mchid, ref = r.MchID, r.OutTradeNo
		out.Type, out.MerchantRef, out.RefundID, out.TxnID, out.Amount = RefundSucceeded, r.OutTradeNo, r.OutRefundNo, r.RefundID, money.FromCents(r.Amount.Refund)
		if n.EventType != "REFUND.SUCCESS" || r.RefundStatus != "SUCCESS" {
			out.Type = RefundFailed
		}
		if r.OutRefundNo == "" {
			return Notification{}, apperr.New(apperr.Invalid, "a refund notification needs out_refund_no")
		}
	default:
		return Notification{}, apperr.New(apperr.Invalid, "unknown notification event_type %q", n.EventType)
	}
	if mchid != s.MchID {
		return Notification{}, apperr.New(apperr.Invalid, "notification is for merchant %s, not this one", mchid)
	}
	if payCID, err := w.Merchants.CommunityOfRef(ctx, ref); err != nil {
		return Notification{}, err
	} else if payCID != cid {
		// Several communities may share keys; the payment's own account
		// must be the one that verified (same mchid checked above).
		ps, _, err := w.Merchants.WeChat(ctx, payCID)
		if err != nil || ps.MchID != mchid {
			return Notification{}, apperr.New(apperr.Invalid, "notification merchant does not match the payment's")
		}
	}
	return out, nil
}

// Ack answers WeChat: 200 {"code":"SUCCESS"} when handled, otherwise a
// failure WeChat retries.
func (w *WeChatProvider) Ack(err error) (int, string, []byte) {
	if err == nil {
		return http.StatusOK, "application/json", []byte(`{"code":"SUCCESS","message":"成功"}`)
	}
	return http.StatusBadRequest, "application/json", []byte(`{"code":"FAIL","message":"失败"}`)
}

// TestConnection queries an out_trade_no that cannot exist: an answer of
// "order does not exist", correctly signed, proves the keys and host work.
func (w *WeChatProvider) TestConnection(ctx context.Context, communityID string) error {
	c, s, err := w.Client(ctx, communityID)
	if err != nil {
		return err
	}
	_, _, err = (&native.NativeApiService{Client: c}).QueryOrderByOutTradeNo(ctx, native.QueryOrderByOutTradeNoRequest{
		OutTradeNo: core.String("SLTEST" + strconv.FormatInt(w.now().Unix(), 10)), Mchid: core.String(s.MchID)})
	if err == nil {
		return nil
	}
	err = wechatErr("test", err)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	return err
}

// truncateBytes cuts s to at most n bytes of UTF-8, on a character boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if i > n {
			break
		}
		cut = i
	}
	return s[:cut]
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
