package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/smartwalle/alipay/v3"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// ChinaTime is the zone Alipay writes its times in (no daylight saving).
var ChinaTime = time.FixedZone("CST", 8*3600)

// TradeStatusNote is a notification that only reports a trade's state
// (Alipay WAIT_BUYER_PAY, TRADE_CLOSED of an unpaid trade): recorded, no
// effect.
const TradeStatusNote = "trade.status"

// AlipayTimeLayout is Alipay's "yyyy-MM-dd HH:mm:ss".
const AlipayTimeLayout = "2006-01-02 15:04:05"

// AlipayProvider is Alipay 当面付 (alipay.trade.precreate: the customer
// scans our QR) over github.com/smartwalle/alipay/v3, one app per
// community (Merchants).
type AlipayProvider struct {
	Merchants *Merchants
	// Gateway overrides the gateway for every app (tests: fakealipay);
	// empty uses Alipay's production or sandbox gateway as the app says.
	Gateway string
	// NotifyURL is where Alipay posts notifications (BaseURL + /api/v1/webhooks/alipay).
	NotifyURL string
	Transport http.RoundTripper
	Now       func() time.Time

	mu      sync.Mutex
	clients map[string]alipayClient
}

type alipayClient struct {
	version int
	c       *alipay.Client
	s       *AlipaySettings
}

func (a *AlipayProvider) Name() string       { return Alipay }
func (a *AlipayProvider) Method() string     { return "qr" }
func (a *AlipayProvider) RemoteCreate() bool { return true }

func (a *AlipayProvider) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Client returns the SDK client of a community's app (cached until the
// settings change).
func (a *AlipayProvider) Client(ctx context.Context, communityID string) (*alipay.Client, *AlipaySettings, error) {
	s, m, err := a.Merchants.Alipay(ctx, communityID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil, apperr.Conflictf("Alipay is not set up for this community: an admin enters the app first")
		}
		return nil, nil, err
	}
	a.mu.Lock()
	if c, ok := a.clients[communityID]; ok && c.version == m.Version {
		a.mu.Unlock()
		return c.c, c.s, nil
	}
	a.mu.Unlock()
	base := a.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	opts := []alipay.OptionFunc{alipay.WithHTTPClient(&http.Client{Transport: base, Timeout: 10 * time.Second}), alipay.WithTimeLocation(ChinaTime)}
	if a.Gateway != "" {
		opts = append(opts, alipay.WithProductionGateway(a.Gateway), alipay.WithSandboxGateway(a.Gateway))
	}
	c, err := alipay.New(s.AppID, s.PrivateKeyPEM, !s.Sandbox, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("payment: alipay client: %w", err)
	}
	if s.AlipayPublicKey != "" {
		err = c.LoadAliPayPublicKey(s.AlipayPublicKey)
	} else {
		if err = c.LoadAppCertPublicKey(s.AppCertPEM); err == nil {
			if err = c.LoadAliPayRootCert(s.RootCertPEM); err == nil {
				err = c.LoadAlipayCertPublicKey(s.AlipayCertPEM)
			}
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("payment: alipay keys: %w", err)
	}
	a.mu.Lock()
	if a.clients == nil {
		a.clients = map[string]alipayClient{}
	}
	a.clients[communityID] = alipayClient{version: m.Version, c: c, s: s}
	a.mu.Unlock()
	return c, s, nil
}

func (a *AlipayProvider) clientOfRef(ctx context.Context, merchantRef string) (*alipay.Client, *AlipaySettings, error) {
	cid, err := a.Merchants.CommunityOfRef(ctx, merchantRef)
	if err != nil {
		return nil, nil, err
	}
	return a.Client(ctx, cid)
}

// alipayErr turns an answer's error code into Shelin's kinds: business
// refusals (40004) are conflicts or not_found, system errors are plain
// errors the caller retries.
func alipayErr(op string, e alipay.Error) error {
	msg := fmt.Sprintf("alipay %s: %s %s %s %s", op, e.Code, e.Msg, e.SubCode, e.SubMsg)
	switch {
	case e.SubCode == "ACQ.TRADE_NOT_EXIST":
		return apperr.NotFoundf("%s", msg)
	case e.SubCode == "ACQ.SYSTEM_ERROR" || e.Code == alipay.CodeUnknowError || strings.HasPrefix(string(e.Code), "2"):
		return errors.New(msg)
	case e.Code == "40004":
		return apperr.Conflictf("%s", msg)
	default:
		return apperr.New(apperr.Invalid, "%s", msg)
	}
}

// Create pre-creates a 当面付 trade (alipay.trade.precreate) and returns its
// qr_code. Remote: called outside any transaction (tx is nil). Alipay
// answers the same qr_code for the same out_trade_no.
func (a *AlipayProvider) Create(ctx context.Context, _ *sqlx.Tx, req CreateRequest) (Created, error) {
	c, _, err := a.Client(ctx, req.CommunityID)
	if err != nil {
		return Created{}, err
	}
	p := alipay.TradePreCreate{}
	p.NotifyURL = a.NotifyURL
	p.Subject = truncate(req.Description, 128)
	p.OutTradeNo = req.MerchantRef
	p.TotalAmount = req.Amount.String()
	p.ProductCode = "FACE_TO_FACE_PAYMENT"
	if !req.ExpiresAt.IsZero() {
		p.TimeExpire = req.ExpiresAt.In(ChinaTime).Format(AlipayTimeLayout)
	}
	rsp, err := c.TradePreCreate(ctx, p)
	if err != nil {
		return Created{}, fmt.Errorf("alipay precreate: %w", err)
	}
	if rsp.IsFailure() {
		return Created{}, alipayErr("precreate", rsp.Error)
	}
	if rsp.QRCode == "" {
		return Created{}, errors.New("alipay precreate: no qr_code in the answer")
	}
	return Created{QRPayload: rsp.QRCode, ProviderRef: req.MerchantRef}, nil
}

// Query asks Alipay about a trade (alipay.trade.query). Before the customer
// scans, Alipay does not know the trade (ACQ.TRADE_NOT_EXIST): pending.
func (a *AlipayProvider) Query(ctx context.Context, merchantRef string) (QueryResult, error) {
	c, _, err := a.clientOfRef(ctx, merchantRef)
	if err != nil {
		return QueryResult{}, err
	}
	rsp, err := c.TradeQuery(ctx, alipay.TradeQuery{OutTradeNo: merchantRef})
	if err != nil {
		return QueryResult{}, fmt.Errorf("alipay query: %w", err)
	}
	if rsp.IsFailure() {
		err := alipayErr("query", rsp.Error)
		if apperr.Is(err, apperr.NotFound) {
			return QueryResult{Status: StatusPending}, nil
		}
		return QueryResult{}, err
	}
	r := QueryResult{Status: StatusPending, TxnID: rsp.TradeNo}
	if amt, err := money.Parse(rsp.TotalAmount); err == nil {
		r.Amount = amt
	}
	switch rsp.TradeStatus {
	case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
		r.Status = StatusSucceeded
		if t, err := time.ParseInLocation(AlipayTimeLayout, rsp.SendPayDate, ChinaTime); err == nil {
			r.PaidAt = t
		}
	case alipay.TradeStatusClosed:
		r.Status = StatusClosed
	}
	return r, nil
}

// Close closes a trade (alipay.trade.close). A trade Alipay does not know
// (the customer never scanned) is closed already: not paid. A paid trade
// is a conflict.
func (a *AlipayProvider) Close(ctx context.Context, merchantRef string) error {
	c, _, err := a.clientOfRef(ctx, merchantRef)
	if err != nil {
		return err
	}
	rsp, err := c.TradeClose(ctx, alipay.TradeClose{OutTradeNo: merchantRef})
	if err != nil {
		return fmt.Errorf("alipay close: %w", err)
	}
	if rsp.IsFailure() {
		err := alipayErr("close", rsp.Error)
		switch {
		case apperr.Is(err, apperr.NotFound):
			return nil
		case rsp.SubCode == "ACQ.TRADE_STATUS_ERROR":
			return apperr.Conflictf("the customer has already paid %s", merchantRef)
		}
		return err
	}
	return nil
}

// Refund refunds (alipay.trade.refund) with out_request_no = the refund id:
// Alipay refunds one out_request_no once and answers a repeat with the
// first refund. An unclear answer is settled by asking for the refund
// (alipay.trade.fastpay.refund.query).
func (a *AlipayProvider) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	c, _, err := a.clientOfRef(ctx, r.MerchantRef)
	if err != nil {
		return RefundResult{}, err
	}
	rsp, err := c.TradeRefund(ctx, alipay.TradeRefund{OutTradeNo: r.MerchantRef, RefundAmount: r.Amount.String(),
		RefundReason: truncate(r.Reason, 80), OutRequestNo: r.RefundID})
	if err != nil {
		return RefundResult{}, fmt.Errorf("alipay refund: %w", err)
	}
	if rsp.IsFailure() {
		err := alipayErr("refund", rsp.Error)
		if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.NotFound) {
			if apperr.Is(err, apperr.NotFound) {
				return RefundResult{}, apperr.Conflictf("%v", err)
			}
			return RefundResult{}, err
		}
		if st, qerr := a.RefundStatus(ctx, r.MerchantRef, r.RefundID); qerr == nil && st.Status == StatusSucceeded {
			return st, nil
		}
		return RefundResult{}, err
	}
	return RefundResult{Status: StatusSucceeded, ProviderRef: rsp.TradeNo + "/" + r.RefundID}, nil
}

// RefundStatus asks Alipay about a refund by out_request_no.
func (a *AlipayProvider) RefundStatus(ctx context.Context, merchantRef, refundID string) (RefundResult, error) {
	c, _, err := a.clientOfRef(ctx, merchantRef)
	if err != nil {
		return RefundResult{}, err
	}
	rsp, err := c.TradeFastPayRefundQuery(ctx, alipay.TradeFastPayRefundQuery{OutTradeNo: merchantRef, OutRequestNo: refundID})
	if err != nil {
		return RefundResult{}, fmt.Errorf("alipay refund query: %w", err)
	}
	if rsp.IsFailure() {
		return RefundResult{}, alipayErr("refund query", rsp.Error)
	}
	if rsp.RefundStatus == "REFUND_SUCCESS" {
		return RefundResult{Status: StatusSucceeded, ProviderRef: rsp.TradeNo + "/" + refundID}, nil
	}
	return RefundResult{Status: StatusPending}, nil
}

// ParseNotification verifies an Alipay asynchronous notification (a form
// signed RSA2 with Alipay's key; notify_time within 5 minutes of now), and
// checks its app id (and seller id when configured) against the payment's
// community. A partial or full refund notifies with out_biz_no = our
// out_request_no and refund_fee.
func (a *AlipayProvider) ParseNotification(h http.Header, body []byte, now time.Time) (Notification, error) {
	ctx := context.Background()
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "notification body is not a form")
	}
	appID, notifyID := values.Get("app_id"), values.Get("notify_id")
	if appID == "" || notifyID == "" || values.Get("sign") == "" || values.Get("out_trade_no") == "" {
		return Notification{}, apperr.New(apperr.Invalid, "notification needs app_id, notify_id, out_trade_no and sign")
	}
	nt, err := time.ParseInLocation(AlipayTimeLayout, values.Get("notify_time"), ChinaTime)
	if err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "malformed notify_time")
	}
	if d := now.Sub(nt); d > SignatureTolerance || d < -SignatureTolerance {
		return Notification{}, apperr.New(apperr.Invalid, "notification timestamp is more than 5 minutes away from now")
	}
	ref := values.Get("out_trade_no")
	cid, err := a.Merchants.CommunityOfRef(ctx, ref)
	if err != nil {
		return Notification{}, err
	}
	c, s, err := a.Client(ctx, cid)
	if err != nil {
		return Notification{}, err
	}
	if appID != s.AppID {
		return Notification{}, apperr.New(apperr.Invalid, "notification is for app %s, not the payment's", appID)
	}
	if s.SellerID != "" && values.Get("seller_id") != "" && values.Get("seller_id") != s.SellerID {
		return Notification{}, apperr.New(apperr.Invalid, "notification is for seller %s, not this merchant", values.Get("seller_id"))
	}
	n, err := c.DecodeNotification(values)
	if err != nil {
		return Notification{}, apperr.New(apperr.Invalid, "notification signature does not match")
	}
	out := Notification{Provider: Alipay, ID: n.NotifyId, MerchantRef: n.OutTradeNo, TxnID: n.TradeNo, Created: nt}
	switch {
	case n.OutBizNo != "" && n.RefundFee != "":
		fee, err := money.Parse(n.RefundFee)
		if err != nil {
			return Notification{}, apperr.New(apperr.Invalid, "malformed refund_fee")
		}
		// refund_fee is the trade's refunded total so far; the refund's own
		// amount is checked by finishRefund against our refund row.
		out.Type, out.RefundID, out.Amount = RefundSucceeded, n.OutBizNo, fee
	case n.TradeStatus == alipay.TradeStatusSuccess || n.TradeStatus == alipay.TradeStatusFinished:
		amt, err := money.Parse(n.TotalAmount)
		if err != nil {
			return Notification{}, apperr.New(apperr.Invalid, "malformed total_amount")
		}
		out.Type, out.Amount = PaymentSucceeded, amt
	case n.TradeStatus == alipay.TradeStatusWaitBuyerPay || n.TradeStatus == alipay.TradeStatusClosed:
		// The buyer scanned, or an unpaid trade timed out: nothing to book.
		// Answered success so Alipay stops sending it; recorded only.
		out.Type = TradeStatusNote
	default:
		return Notification{}, apperr.New(apperr.Invalid, "notification with trade_status %s carries nothing to apply", n.TradeStatus)
	}
	return out, nil
}

// Ack answers Alipay with the plain text it expects.
func (a *AlipayProvider) Ack(err error) (int, string, []byte) {
	if err == nil {
		return http.StatusOK, "text/plain; charset=utf-8", []byte("success")
	}
	return http.StatusBadRequest, "text/plain; charset=utf-8", []byte("fail")
}

// TestConnection queries a trade that cannot exist: a correctly signed
// "trade does not exist" proves the keys and gateway work.
func (a *AlipayProvider) TestConnection(ctx context.Context, communityID string) error {
	c, _, err := a.Client(ctx, communityID)
	if err != nil {
		return err
	}
	rsp, err := c.TradeQuery(ctx, alipay.TradeQuery{OutTradeNo: fmt.Sprintf("SLTEST%d", a.now().Unix())})
	if err != nil {
		return fmt.Errorf("alipay test: %w", err)
	}
	if rsp.IsFailure() {
		if err := alipayErr("test", rsp.Error); !apperr.Is(err, apperr.NotFound) {
			return err
		}
	}
	return nil
}
