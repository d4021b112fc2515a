package pos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/orders/payment/fakealipay"
	"shelin/orders/payment/fakewechat"
	"shelin/pos"
)

type misbehave = fakewechat.Misbehave

// driver is one provider as the scenario suite sees it: the sandbox, or a
// real adapter against its loopback fake.
type driver struct {
	name string
	f    *fx
	// pay is the customer paying; the provider notifies as m says (the
	// sandbox's notification is delivered here, the fakes' by their servers).
	pay func(s *pos.Sale, m misbehave, late bool)
	// payNotice builds the provider's payment notification (id, as m says).
	payNotice func(s *pos.Sale, id string, m misbehave) (http.Header, []byte)
	// refundNotice builds a refund notification; failed (a stale
	// failure) is nil where the provider sends none (Alipay).
	refundNotice func(s *pos.Sale, refundID, id string, failed bool) (http.Header, []byte)
	noFailure    bool
	// refunded is what the provider's own books gave back for the sale.
	refunded func(s *pos.Sale) money.Amount
	prefix   string
}

func (d *driver) deliver(h http.Header, body []byte) (int, error) {
	st, _, _, err := d.f.s.HandleNotification(d.f.ctx, d.name, h, body)
	return st, err
}

// sell sells by QR through the provider and, for a remote provider, runs the
// create outbox's second step as the request that made the sale does.
func (d *driver) sell(lines ...pos.SaleLine) *pos.Sale {
	f := d.f
	f.t.Helper()
	s := f.mustSell("qr", d.name, nil, lines...)
	if d.name != payment.Sandbox {
		if s.Payment.QRPayload != nil {
			f.t.Fatalf("a remote create must happen after commit, but checkout stored %q", *s.Payment.QRPayload)
		}
		if err := f.s.CreateRemotePayment(f.ctx, f.cid, s.Payment.ID); err != nil {
			f.t.Fatal(err)
		}
		if err := f.s.CreateRemotePayment(f.ctx, f.cid, s.Payment.ID); err != nil { // the fallback job: no second effect
			f.t.Fatal(err)
		}
		s = f.sale(s.Order.ID)
	}
	if s.Payment.QRPayload == nil || !strings.HasPrefix(*s.Payment.QRPayload, d.prefix) {
		f.t.Fatalf("%s QR payload %v, want %s…", d.name, s.Payment.QRPayload, d.prefix)
	}
	return s
}

// waitFor polls the sale until cond holds (notifications arrive from the
// fakes' goroutines).
func (d *driver) waitFor(s *pos.Sale, what string, cond func(*pos.Sale) bool) *pos.Sale {
	f := d.f
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := f.sale(s.Order.ID)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: sale %s never became %s (status %s)", d.name, got.Order.Number, what, got.Order.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type webhook struct {
	srv *httptest.Server
	f   *fx
}

func newWebhook(f *fx) *webhook {
	w := &webhook{f: f}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/webhooks/")
		body, _ := io.ReadAll(r.Body)
		ctx, cancel := context.WithTimeout(r.Context(), 4*time.Second)
		defer cancel()
		st, ct, b, _ := f.s.HandleNotification(ctx, name, r.Header, body)
		rw.Header().Set("Content-Type", ct)
		rw.WriteHeader(st)
		_, _ = rw.Write(b)
	}))
	w.srv.Listener.Close()
	w.srv.Listener = l
	w.srv.Start()
	f.t.Cleanup(w.srv.Close)
	return w
}

// withProviders registers WeChat Pay and Alipay (against fresh fakes) next
// to the sandbox, stores the community's merchant settings sealed, and
// returns the three drivers.
func withProviders(f *fx) (sandbox, wechat, ali *driver, wx *fakewechat.Server, ap *fakealipay.Server) {
	return withProvidersMode(f, false)
}

// withProvidersMode is withProviders with WeChat Pay in the older
// platform-certificate mode when certs is set.
func withProvidersMode(f *fx, certs bool) (sandbox, wechat, ali *driver, wx *fakewechat.Server, ap *fakealipay.Server) {
	t := f.t
	wh := newWebhook(f)
	wx, ap = fakewechat.New(), fakealipay.New()
	if certs {
		wx.Close()
		ap.Close()
		wx, ap = fakewechat.NewWithCertificate(), fakealipay.NewWithCertificates()
	}
	t.Cleanup(wx.Close)
	t.Cleanup(ap.Close)
	m := payment.NewMerchants(f.d, []byte("test-secret-key-0123456789abcdef"))
	if err := m.PutWeChat(f.ctx, f.cid, f.admin, wx.Settings()); err != nil {
		t.Fatal(err)
	}
	if err := m.PutAlipay(f.ctx, f.cid, f.admin, ap.Settings()); err != nil {
		t.Fatal(err)
	}
	wp := &payment.WeChatProvider{Merchants: m, Host: wx.URL, NotifyURL: wh.srv.URL + "/api/v1/webhooks/wechatpay"}
	alp := &payment.AlipayProvider{Merchants: m, Gateway: ap.URL, NotifyURL: wh.srv.URL + "/api/v1/webhooks/alipay"}
	f.s.Providers = payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, f.sandbox, wp, alp)
	f.s.AutoRefundSandbox = true

	sandbox = &driver{name: payment.Sandbox, f: f, prefix: "http://shelin.test/pay/"}
	sandboxTxn := func(s *pos.Sale) string {
		var txn string
		if err := f.d.Get(&txn, `SELECT txn_id FROM sandbox_payments WHERE merchant_ref=$1`, s.Payment.MerchantRef); err != nil {
			t.Fatal(err)
		}
		return txn
	}
	sandbox.payNotice = func(s *pos.Sale, id string, m misbehave) (http.Header, []byte) {
		amount := s.Order.Total
		if m.WrongAmount {
			amount = amount.Add(money.FromCents(1))
		}
		at := time.Now().Add(-m.Age)
		body := payment.NotificationBody(id, payment.PaymentSucceeded, s.Payment.ID, amount, sandboxTxn(s), at)
		key := secret
		if m.BadSignature {
			key = "not-the-secret"
		}
		h := http.Header{}
		h.Set(payment.SignatureHeader, payment.Sign([]byte(key), at, body))
		return h, body
	}
	sandbox.pay = func(s *pos.Sale, m misbehave, late bool) {
		token := (*s.Payment.QRPayload)[len("http://shelin.test/pay/"):]
		if late {
			f.tx(func(tx *sqlx.Tx) error {
				_, err := tx.Exec(`UPDATE sandbox_payments SET status='paid', paid_at=now(), txn_id='sbx_late_'||token WHERE token=$1`, token)
				return err
			})
		} else if _, err := f.sandbox.Pay(f.ctx, f.d, token); err != nil {
			t.Fatal(err)
		}
		if m.Drop {
			return
		}
		h, b := sandbox.payNotice(s, "evt_"+payment.Token(), m)
		for i := 0; i <= m.Repeat; i++ {
			if _, err := sandbox.deliver(h, b); err != nil && !m.BadSignature && !m.WrongAmount && m.Age == 0 {
				t.Fatal(err)
			}
		}
	}
	sandbox.refundNotice = func(s *pos.Sale, refundID, id string, failed bool) (http.Header, []byte) {
		typ := payment.RefundSucceeded
		if failed {
			typ = payment.RefundFailed
		}
		body, _ := json.Marshal(map[string]any{"id": id, "type": typ, "created": time.Now().UTC().Format(time.RFC3339),
			"data": map[string]any{"payment_id": s.Payment.ID, "amount": "0.00", "provider_txn_id": "sbr_" + refundID, "refund_id": refundID}})
		h := http.Header{}
		h.Set(payment.SignatureHeader, payment.Sign([]byte(secret), time.Now(), body))
		return h, body
	}
	sandbox.refunded = func(s *pos.Sale) money.Amount {
		var a money.Amount
		if err := f.d.Get(&a, `SELECT refunded FROM sandbox_payments WHERE merchant_ref=$1`, s.Payment.MerchantRef); err != nil {
			t.Fatal(err)
		}
		return a
	}

	wechat = &driver{name: payment.WeChatPay, f: f, prefix: "weixin://wxpay/bizpayurl?pr="}
	wechat.pay = func(s *pos.Sale, m misbehave, late bool) {
		wx.SetNext(m)
		if err := wx.Pay(s.Payment.MerchantRef, late); err != nil {
			t.Fatal(err)
		}
		wx.SetNext(misbehave{})
	}
	wechat.payNotice = func(s *pos.Sale, id string, m misbehave) (http.Header, []byte) {
		return wx.PaymentNotification(id, s.Payment.MerchantRef, m)
	}
	wechat.refundNotice = func(s *pos.Sale, refundID, id string, failed bool) (http.Header, []byte) {
		ev := "REFUND.SUCCESS"
		if failed {
			ev = "REFUND.ABNORMAL"
		}
		return wx.RefundNotification(id, refundID, ev, misbehave{})
	}
	wechat.refunded = func(s *pos.Sale) money.Amount { return money.FromCents(wx.RefundedTotal(s.Payment.MerchantRef)) }

	ali = &driver{name: payment.Alipay, f: f, prefix: "https://qr.alipay.com/", noFailure: true}
	ali.pay = func(s *pos.Sale, m misbehave, late bool) {
		ap.SetNext(m)
		if err := ap.Pay(s.Payment.MerchantRef, late); err != nil {
			t.Fatal(err)
		}
		ap.SetNext(misbehave{})
	}
	ali.payNotice = func(s *pos.Sale, id string, m misbehave) (http.Header, []byte) {
		return ap.PaymentNotification(id, s.Payment.MerchantRef, m)
	}
	ali.refundNotice = func(s *pos.Sale, refundID, id string, failed bool) (http.Header, []byte) {
		return ap.RefundNotification(id, refundID, misbehave{})
	}
	ali.refunded = func(s *pos.Sale) money.Amount { return money.FromCents(ap.RefundedTotal(s.Payment.MerchantRef)) }
	return sandbox, wechat, ali, wx, ap
}

// freshSetup is setup on a database of the test's own: these tests leave
// sales awaiting payment that other tests' global sweeps must not see.
func freshSetup(t *testing.T, pastryStock, cardStock int) *fx {
	t.Helper()
	return setupOn(t, dbtest.Fresh(t), pastryStock, cardStock)
}

// eachProvider runs a scenario against the sandbox and both adapters, each
// in a fresh community with 5 pastries and 5 postcards.
func eachProvider(t *testing.T, scenario func(t *testing.T, f *fx, d *driver)) {
	own := dbtest.Fresh(t) // its own database: no sale left behind for another test's global sweeps
	for _, name := range []string{payment.Sandbox, payment.WeChatPay, payment.WeChatPay + "-certificates", payment.Alipay, payment.Alipay + "-certificates"} {
		t.Run(name, func(t *testing.T) {
			f := setupOn(t, own, 5, 5)
			sb, wx, ap, _, _ := withProvidersMode(f, strings.HasSuffix(name, "-certificates"))
			d := map[string]*driver{payment.Sandbox: sb, payment.WeChatPay: wx, payment.WeChatPay + "-certificates": wx, payment.Alipay: ap,
				payment.Alipay + "-certificates": ap}[name]
			scenario(t, f, d)
			f.verifyLedger()
		})
	}
}

func isPaid(s *pos.Sale) bool { return s.Order.Status == orders.Paid }

func pastry(f *fx) pos.SaleLine { return pos.SaleLine{ProductID: f.pastry, Qty: 1} }
func card(f *fx) pos.SaleLine   { return pos.SaleLine{ProductID: f.card, Qty: 1} }

func TestProviderScenarioPaidViaNotification(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{}, false)
		got := d.waitFor(s, "paid", isPaid)
		if got.Payment.ProviderTxnID == nil || *got.Payment.ProviderTxnID == "" || f.fundBalance().String() != "18.00" {
			t.Fatalf("paid sale: txn %v fund %s", got.Payment.ProviderTxnID, f.fundBalance())
		}
		// A notification is answered well within WeChat's 5 s.
		h, b := d.payNotice(s, "again-"+payment.Token(), misbehave{})
		start := time.Now()
		if st, err := d.deliver(h, b); st != 200 || err != nil {
			t.Fatalf("a repeat of a paid sale's notification: %d %v", st, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("answering a notification took %s", el)
		}
	})
}

func TestProviderScenarioPaidViaPollingWhenTheNotificationIsLost(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		if again, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil || !again {
			t.Fatalf("polling an unpaid sale: again %v err %v", again, err)
		}
		d.pay(s, misbehave{Drop: true}, false)
		again, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID)
		if err != nil || again {
			t.Fatalf("poll after payment: again %v err %v", again, err)
		}
		if got := f.sale(s.Order.ID); !isPaid(got) || f.fundBalance().String() != "18.00" {
			t.Fatalf("after the poll: %s fund %s", got.Order.Status, f.fundBalance())
		}
	})
}

func TestProviderScenarioDuplicateNotification(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{Drop: true}, false)
		h, b := d.payNotice(s, "dup-"+payment.Token(), misbehave{})
		for i := 0; i < 3; i++ {
			if st, err := d.deliver(h, b); st != 200 || err != nil {
				t.Fatalf("delivery %d: %d %v", i, st, err)
			}
		}
		var n int
		if err := f.d.Get(&n, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1`, s.Payment.ID); err != nil || n != 1 {
			t.Fatalf("%d notifications recorded (%v), want 1", n, err)
		}
		if got := f.sale(s.Order.ID); !isPaid(got) || f.fundBalance().String() != "18.00" {
			t.Fatalf("after duplicates: %s fund %s", got.Order.Status, f.fundBalance())
		}
	})
}

func TestProviderScenarioBadSignatureAndStaleTimestampChangeNothing(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{Drop: true}, false)
		for _, m := range []misbehave{{BadSignature: true}, {Age: 6 * time.Minute}} {
			h, b := d.payNotice(s, "bad-"+payment.Token(), m)
			if st, err := d.deliver(h, b); st != 400 || err == nil {
				t.Fatalf("%+v: answered %d %v, want 400", m, st, err)
			}
		}
		if got := f.sale(s.Order.ID); got.Order.Status != orders.AwaitingPayment {
			t.Fatalf("a refused notification changed the sale to %s", got.Order.Status)
		}
		var n int
		if err := f.d.Get(&n, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1`, s.Payment.ID); err != nil || n != 0 {
			t.Fatalf("%d refused notifications recorded (%v)", n, err)
		}
	})
}

func TestProviderScenarioAmountMismatchIsFlagged(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{Drop: true}, false)
		h, b := d.payNotice(s, "wrong-"+payment.Token(), misbehave{WrongAmount: true})
		if st, _ := d.deliver(h, b); st != 422 {
			t.Fatalf("a wrong amount answered %d, want 422", st)
		}
		got := f.sale(s.Order.ID)
		if got.Order.Status != orders.AwaitingPayment || !got.Payment.Flagged {
			t.Fatalf("after a wrong amount: %s flagged %v", got.Order.Status, got.Payment.Flagged)
		}
		held, err := orders.SuspenseOfPayment(f.ctx, f.d, s.Payment.ID)
		if err != nil || held.Reason != orders.HoldAmountMismatch || held.Amount.String() != "38.01" || held.Status != orders.SuspenseOpen {
			t.Fatalf("held %+v %v (a wrong amount is the treasurer's call, not refunded by itself)", held, err)
		}
	})
}

func TestProviderScenarioLatePaymentAfterCloseIsRefundedAutomatically(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		later := time.Now().Add(11 * time.Minute)
		f.s.Now = func() time.Time { return later }
		if ok, err := f.s.ExpireSale(f.ctx, f.cid, s.Order.ID); err != nil || !ok {
			t.Fatalf("expire: %v %v", ok, err)
		}
		f.s.Now = nil
		if l := f.level(f.pastry); l.Reserved != 0 || l.Available != 5 {
			t.Fatalf("the expired sale still holds stock: %+v", l)
		}
		// The customer's wallet takes the money anyway (the close raced it).
		d.pay(s, misbehave{Drop: true}, true)
		h, b := d.payNotice(s, "late-"+payment.Token(), misbehave{})
		if st, err := d.deliver(h, b); st != 200 || err != nil {
			t.Fatalf("late notification: %d %v", st, err)
		}
		held, err := orders.SuspenseOfPayment(f.ctx, f.d, s.Payment.ID)
		if err != nil || held.Reason != orders.HoldAfterExpired || held.Status != orders.SuspenseRefunding {
			t.Fatalf("held %+v %v: want after_expired, refunding by itself", held, err)
		}
		if auto, err := pos.AutoRefunded(f.ctx, f.d, held.ID); err != nil || !auto {
			t.Fatalf("automatic refund not recorded: %v %v", auto, err)
		}
		// The provider makes the refund (the job's answer is lost) and its
		// refund notification books it; the job, retried, finds nothing to do.
		prov, _ := f.s.Providers.Get(d.name)
		if _, err := prov.Refund(f.ctx, payment.RefundRequest{PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef, RefundID: held.ID,
			Amount: held.Amount, Total: held.Amount, Reason: "late"}); err != nil {
			t.Fatal(err)
		}
		rh, rb := d.refundNotice(s, held.ID, "held-rf-"+payment.Token(), false)
		if st, err := d.deliver(rh, rb); st != 200 || err != nil {
			t.Fatalf("refund notification of held money: %d %v", st, err)
		}
		for i := 0; i < 2; i++ { // the outbox job, retried
			if err := f.s.SubmitSuspenseRefund(f.ctx, f.cid, held.ID); err != nil {
				t.Fatal(err)
			}
		}
		held, _ = orders.SuspenseOfPayment(f.ctx, f.d, s.Payment.ID)
		if held.Status != orders.SuspenseRefunded || d.refunded(s).String() != "38.00" || f.account("customer_refunds_payable", "") != "0.00" {
			t.Fatalf("after the refund: %s, provider refunded %s, suspense %s", held.Status, d.refunded(s), f.account("customer_refunds_payable", ""))
		}
		if got := f.sale(s.Order.ID); got.Order.Status != orders.Expired || f.fundBalance().String() != "0.00" {
			t.Fatalf("the sale is %s, fund %s", got.Order.Status, f.fundBalance())
		}
	})
}

// paidSale sells a pastry and a postcard and has it paid by poll.
func paidSale(f *fx, d *driver) *pos.Sale {
	s := d.sell(pastry(f), card(f))
	d.pay(s, misbehave{Drop: true}, false)
	if _, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil {
		f.t.Fatal(err)
	}
	s = f.sale(s.Order.ID)
	if !isPaid(s) {
		f.t.Fatalf("sale is %s", s.Order.Status)
	}
	return s
}

// refundCard records the refund of the postcard (step A of the outbox).
func refundCard(f *fx, s *pos.Sale) *orders.Refund {
	var r *orders.Refund
	f.tx(func(tx *sqlx.Tx) (err error) {
		r, err = f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: []orders.RefundItem{{ProductID: f.card, Qty: 1}},
			Reason: "客人不要了", Restock: true, UserID: f.vol1, ApproverID: f.vol2})
		return
	})
	return r
}

func refundStatus(f *fx, id string) string {
	r, err := orders.GetRefund(f.ctx, f.d, f.cid, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r.Status
}

func TestProviderScenarioPartialRefundRetriedThreeTimesIsRefundedOnce(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := paidSale(f, d)
		r := refundCard(f, s)
		prov, err := f.s.Providers.Get(d.name)
		if err != nil {
			t.Fatal(err)
		}
		// Three attempts whose answers were lost, then the job books it.
		for i := 0; i < 3; i++ {
			if _, err := prov.Refund(f.ctx, payment.RefundRequest{PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef, RefundID: r.ID,
				Amount: r.Amount, Total: s.Order.Total, Reason: "retry"}); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		for i := 0; i < 3; i++ {
			if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		if refundStatus(f, r.ID) != orders.PaymentSucceeded || d.refunded(s).String() != "5.50" {
			t.Fatalf("refund %s, provider refunded %s (want 5.50 once)", refundStatus(f, r.ID), d.refunded(s))
		}
		if f.account("customer_refunds_payable", "") != "0.00" {
			t.Fatalf("suspense %s", f.account("customer_refunds_payable", ""))
		}
	})
}

func TestProviderScenarioRefundNotification(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := paidSale(f, d)
		r := refundCard(f, s)
		prov, _ := f.s.Providers.Get(d.name)
		// The provider processes the refund (its own notification is the
		// one that tells us).
		if _, err := prov.Refund(f.ctx, payment.RefundRequest{PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef, RefundID: r.ID,
			Amount: r.Amount, Total: s.Order.Total, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		h, b := d.refundNotice(s, r.ID, "rf-"+payment.Token(), false)
		if st, err := d.deliver(h, b); st != 200 || err != nil {
			t.Fatalf("refund notification: %d %v", st, err)
		}
		if refundStatus(f, r.ID) != orders.PaymentSucceeded || f.account("customer_refunds_payable", "") != "0.00" {
			t.Fatalf("refund %s suspense %s", refundStatus(f, r.ID), f.account("customer_refunds_payable", ""))
		}
		if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil { // the job afterwards: nothing left to do
			t.Fatal(err)
		}
		if d.refunded(s).String() != "5.50" {
			t.Fatalf("provider refunded %s", d.refunded(s))
		}
	})
}

func TestProviderScenarioNotificationsOutOfOrder(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f), card(f))
		d.pay(s, misbehave{Drop: true}, false)
		lateHeader, latePay := d.payNotice(s, "slow-"+payment.Token(), misbehave{}) // held up somewhere
		if _, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil {
			t.Fatal(err)
		}
		s = f.sale(s.Order.ID)
		r := refundCard(f, s)
		prov, _ := f.s.Providers.Get(d.name)
		if _, err := prov.Refund(f.ctx, payment.RefundRequest{PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef, RefundID: r.ID,
			Amount: r.Amount, Total: s.Order.Total, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		if !d.noFailure {
			// A stale "refund failed" overtakes the success: the fresh query wins.
			h, b := d.refundNotice(s, r.ID, "stale-"+payment.Token(), true)
			if st, err := d.deliver(h, b); st != 200 || err != nil {
				t.Fatalf("stale failure: %d %v", st, err)
			}
			if got := refundStatus(f, r.ID); got != orders.PaymentSucceeded {
				t.Fatalf("after a stale failure the refund is %s; the provider says it succeeded", got)
			}
		}
		h, b := d.refundNotice(s, r.ID, "ok-"+payment.Token(), false)
		if st, err := d.deliver(h, b); st != 200 || err != nil {
			t.Fatalf("refund notification: %d %v", st, err)
		}
		// The payment's own notification arrives last of all.
		if st, err := d.deliver(lateHeader, latePay); st != 200 || err != nil {
			t.Fatalf("late payment notification: %d %v", st, err)
		}
		got := f.sale(s.Order.ID)
		if !isPaid(got) || got.Order.RefundedTotal.String() != "5.50" || refundStatus(f, r.ID) != orders.PaymentSucceeded {
			t.Fatalf("sale %s refunded %s refund %s", got.Order.Status, got.Order.RefundedTotal, refundStatus(f, r.ID))
		}
		if f.account("customer_refunds_payable", "") != "0.00" || d.refunded(s).String() != "5.50" {
			t.Fatalf("suspense %s provider refunded %s", f.account("customer_refunds_payable", ""), d.refunded(s))
		}
	})
}

func TestProviderTwentyNotificationsForOnePaymentInParallel(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{Drop: true}, false)
		type note struct {
			h http.Header
			b []byte
		}
		notes := make([]note, 20)
		for i := range notes {
			notes[i].h, notes[i].b = d.payNotice(s, fmt.Sprintf("par-%02d-%s", i, payment.Token()), misbehave{})
		}
		retries := db.Retries()
		var wg sync.WaitGroup
		errs := make(chan error, len(notes))
		start := make(chan struct{})
		for _, n := range notes {
			wg.Add(1)
			go func(n note) {
				defer wg.Done()
				<-start
				if st, err := d.deliver(n.h, n.b); st != 200 || err != nil {
					errs <- fmt.Errorf("answered %d: %v", st, err)
				}
			}(n)
		}
		close(start)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("twenty notifications did not finish in 30 s (deadlock?)")
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if r := db.Retries() - retries; r != 0 {
			t.Fatalf("%d transaction retries", r)
		}
		var applied, all int
		if err := f.d.Get(&all, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1`, s.Payment.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.d.Get(&applied, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1 AND outcome='applied'`, s.Payment.ID); err != nil {
			t.Fatal(err)
		}
		if all != 20 || applied != 1 || f.fundBalance().String() != "18.00" || !isPaid(f.sale(s.Order.ID)) {
			t.Fatalf("%d recorded, %d applied, fund %s", all, applied, f.fundBalance())
		}
	})
}

// crashing answers like the provider, then the process dies before the
// answer is booked (its context ends).
type crashing struct {
	payment.Provider
	die func()
}

func (c crashing) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	res, err := c.Provider.Refund(ctx, r)
	c.die()
	return res, err
}

func TestProviderCrashBetweenRefundAnswerAndBookingIsBookedOnceNeverSentTwice(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, wechat, ali, wx, ap := withProviders(f)
	for _, d := range []*driver{wechat, ali} {
		t.Run(d.name, func(t *testing.T) {
			s := paidSale(f, d)
			r := refundCard(f, s)
			// The provider's refund notification is lost too: only the job can book it.
			wx.SetNext(misbehave{Drop: true})
			ap.SetNext(misbehave{Drop: true})
			real := f.s.Providers
			prov, _ := real.Get(d.name)
			ctx, die := context.WithCancel(f.ctx)
			crashed := *f.s
			crashed.Providers = payment.NewRegistry(crashing{Provider: prov, die: die})
			if err := crashed.SubmitRefund(ctx, f.cid, r.ID); err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("the crashed run: %v", err)
			}
			if refundStatus(f, r.ID) != orders.PaymentPending || d.refunded(s).String() != "5.50" {
				t.Fatalf("after the crash: refund %s, provider refunded %s", refundStatus(f, r.ID), d.refunded(s))
			}
			// Restart: the job runs again in a fresh process.
			before := map[string]int{payment.WeChatPay: wx.Count("POST /v3/refund/domestic/refunds"), payment.Alipay: ap.Count("alipay.trade.refund")}[d.name]
			if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
				t.Fatal(err)
			}
			after := map[string]int{payment.WeChatPay: wx.Count("POST /v3/refund/domestic/refunds"), payment.Alipay: ap.Count("alipay.trade.refund")}[d.name]
			if after != before {
				t.Fatalf("the refund was sent again after the restart (%d → %d)", before, after)
			}
			if refundStatus(f, r.ID) != orders.PaymentSucceeded || d.refunded(s).String() != "5.50" || f.account("customer_refunds_payable", "") != "0.00" {
				t.Fatalf("after the restart: refund %s, provider refunded %s, suspense %s", refundStatus(f, r.ID), d.refunded(s), f.account("customer_refunds_payable", ""))
			}
		})
	}
	f.verifyLedger()
}

func TestProviderBillsAreDownloadedAfterTenForTheDayBefore(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, wechat, ali, wx, ap := withProviders(f)
	for _, d := range []*driver{wechat, ali} {
		s := d.sell(pastry(f))
		d.pay(s, misbehave{Drop: true}, false)
		if _, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil {
			t.Fatal(err)
		}
	}
	today := time.Now().In(payment.ChinaTime)
	date := today.Format("2006-01-02") // the fakes' trades are today's: "now" is tomorrow
	wx.MakeBill(date)
	ap.MakeBill(date)
	tomorrow := time.Date(today.Year(), today.Month(), today.Day()+1, 9, 30, 0, 0, payment.ChinaTime)
	if n, err := f.s.DownloadBills(f.ctx, tomorrow); err != nil || n != 0 {
		t.Fatalf("before 10:00: %d %v", n, err)
	}
	at := tomorrow.Add(time.Hour)
	if n, err := f.s.DownloadBills(f.ctx, at); err != nil || n != 2 {
		t.Fatalf("after 10:00: %d %v", n, err)
	}
	for _, prov := range []string{payment.WeChatPay, payment.Alipay} {
		b, err := f.s.Bill(f.ctx, f.d, f.cid, prov, date)
		if err != nil || b.Rows != 1 {
			t.Fatalf("%s bill: %+v %v", prov, b, err)
		}
	}
	wb, _ := f.s.Bill(f.ctx, f.d, f.cid, payment.WeChatPay, date)
	parsed, err := payment.ParseWeChatBill(wb.Content)
	if err != nil || len(parsed.Rows) != 1 || len(parsed.Header) != 27 || parsed.Rows[0][9] != "SUCCESS" || parsed.Summary[0] != "1" {
		t.Fatalf("wechat bill parsed: %+v %v", parsed, err)
	}
	ab, _ := f.s.Bill(f.ctx, f.d, f.cid, payment.Alipay, date)
	ali2, err := payment.ParseAlipayBill(ab.Content)
	if err != nil || len(ali2.Rows) != 1 || ali2.Header[0] != "支付宝交易号" || ali2.Rows[0][11] != "38.00" {
		t.Fatalf("alipay bill parsed: %+v %v", ali2, err)
	}
	// Fetched once: the next hour asks for nothing.
	if n, err := f.s.DownloadBills(f.ctx, at.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("the next hour: %d %v", n, err)
	}
	// A bill whose SHA1 does not match is refused (and retried later).
	wx.BadBillHash = true
	wp, err := f.s.Providers.Get(payment.WeChatPay)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wp.(pos.BillFetcher).TradeBill(f.ctx, f.cid, date); err == nil || !strings.Contains(err.Error(), "SHA1") {
		t.Fatalf("a bill with a wrong SHA1: %v", err)
	}
}

// A notification correctly signed by another merchant's keys (or for another
// app) is refused: the merchant and app must be the payment community's.
func TestProviderNotificationForAnotherMerchantIsRefused(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, wechat, ali, _, _ := withProviders(f)
	other := setupOn(t, f.d, 0, 0) // another community with its own accounts
	wx2, ap2 := fakewechat.New(), fakealipay.New()
	t.Cleanup(wx2.Close)
	t.Cleanup(ap2.Close)
	m := payment.NewMerchants(f.d, []byte("test-secret-key-0123456789abcdef"))
	if err := m.PutWeChat(f.ctx, other.cid, "", wx2.Settings()); err != nil {
		t.Fatal(err)
	}
	if err := m.PutAlipay(f.ctx, other.cid, "", ap2.Settings()); err != nil {
		t.Fatal(err)
	}
	s := wechat.sell(pastry(f))
	wechat.pay(s, misbehave{Drop: true}, false)
	wx2.Trades[s.Payment.MerchantRef] = &fakewechat.Trade{OutTradeNo: s.Payment.MerchantRef, Total: 3800, State: "SUCCESS", TransactionID: "4200999", SuccessTime: time.Now()}
	h, b := wx2.PaymentNotification("foreign-"+payment.Token(), s.Payment.MerchantRef, misbehave{})
	if st, err := wechat.deliver(h, b); st != 400 || err == nil || !strings.Contains(err.Error(), "merchant") {
		t.Fatalf("another merchant's WeChat notification: %d %v", st, err)
	}
	a := ali.sell(pastry(f))
	ali.pay(a, misbehave{Drop: true}, false)
	ap2.Trades[a.Payment.MerchantRef] = &fakealipay.Trade{OutTradeNo: a.Payment.MerchantRef, Total: money.MustParse("38.00"), Status: "TRADE_SUCCESS",
		TradeNo: "2026999", PaidAt: time.Now(), Scanned: true, Subject: "x"}
	h, b = ap2.PaymentNotification("foreign-"+payment.Token(), a.Payment.MerchantRef, misbehave{})
	if st, err := ali.deliver(h, b); st != 400 || err == nil || !strings.Contains(err.Error(), "app") {
		t.Fatalf("another app's Alipay notification: %d %v", st, err)
	}
	for _, sale := range []*pos.Sale{s, a} {
		if got := f.sale(sale.Order.ID); got.Order.Status != orders.AwaitingPayment {
			t.Fatalf("a foreign notification changed %s to %s", got.Order.Number, got.Order.Status)
		}
	}
}

// Random deliveries: for each provider, sales whose notifications come
// repeated, with distinct ids, stale or badly signed, in random order and
// at once with polls. Every sale ends paid exactly once. The seed is
// logged; SHELIN_SEED replays one.
func TestProviderRandomDeliveriesConfirmOnce(t *testing.T) {
	seed := time.Now().UnixNano()
	if v := os.Getenv("SHELIN_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (SHELIN_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		const sales = 4
		for i := 0; i < sales; i++ {
			s := d.sell(card(f))
			d.pay(s, misbehave{Drop: true}, false)
			type job struct {
				poll bool
				h    http.Header
				b    []byte
				ok   bool
			}
			var jobs []job
			ids := 1 + rng.Intn(3)
			for k := 0; k < 1+rng.Intn(5); k++ {
				m := misbehave{}
				switch rng.Intn(6) {
				case 0:
					m.Age = 6 * time.Minute
				case 1:
					m.BadSignature = true
				}
				h, b := d.payNotice(s, fmt.Sprintf("rnd-%d-%d-%d", seed, i, rng.Intn(ids)), m)
				jobs = append(jobs, job{h: h, b: b, ok: m.Age == 0 && !m.BadSignature})
			}
			for k := 0; k < rng.Intn(3); k++ {
				jobs = append(jobs, job{poll: true})
			}
			rng.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
			var wg sync.WaitGroup
			errs := make(chan error, len(jobs))
			for _, j := range jobs {
				wg.Add(1)
				go func(j job) {
					defer wg.Done()
					if j.poll {
						if _, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil {
							errs <- err
						}
						return
					}
					st, err := d.deliver(j.h, j.b)
					if j.ok && (st != 200 || err != nil) {
						errs <- fmt.Errorf("a good notification answered %d: %v", st, err)
					}
					if !j.ok && st != 400 {
						errs <- fmt.Errorf("a bad notification answered %d", st)
					}
				}(j)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if _, err := f.s.PollSale(f.ctx, f.cid, s.Order.ID); err != nil { // the minute sweep, at the latest
				t.Fatal(err)
			}
			var applied int
			if err := f.d.Get(&applied, `SELECT count(*) FROM payment_notifications WHERE payment_id=$1 AND outcome='applied'`, s.Payment.ID); err != nil {
				t.Fatal(err)
			}
			if got := f.sale(s.Order.ID); !isPaid(got) || applied > 1 {
				t.Fatalf("sale %d: %s, %d notifications applied", i, got.Order.Status, applied)
			}
		}
		if want := money.MustParse("4.50").Mul(sales); !f.fundBalance().Equal(want) {
			t.Fatalf("fund %s, want %s", f.fundBalance(), want)
		}
	})
}

// The fakes can hold a notification back until the next one went out.
func TestFakeReordersNotifications(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, wechat, ali, wx, ap := withProviders(f)
	for _, d := range []*driver{wechat, ali} {
		first, second := d.sell(pastry(f)), d.sell(card(f))
		d.pay(first, misbehave{Reorder: true}, false) // held back
		if got := f.sale(first.Order.ID); got.Order.Status != orders.AwaitingPayment {
			t.Fatalf("%s: a held-back notification arrived: %s", d.name, got.Order.Status)
		}
		d.pay(second, misbehave{}, false) // goes out, then the held one
		d.waitFor(second, "paid", isPaid)
		d.waitFor(first, "paid", isPaid)
	}
	wx.FlushHeld()
	ap.FlushHeld()
}

// Alipay reports a scan (WAIT_BUYER_PAY) and a timed-out trade
// (TRADE_CLOSED): answered success so it stops sending them, no effect.
func TestAlipayStatusNotificationsAreAcknowledgedWithoutEffect(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, _, ali, _, ap := withProviders(f)
	s := ali.sell(pastry(f))
	ap.Scan(s.Payment.MerchantRef)
	for _, status := range []string{"WAIT_BUYER_PAY", "TRADE_CLOSED"} {
		h, b := ap.StatusNotification("st-"+payment.Token(), s.Payment.MerchantRef, status)
		st, _, body, err := f.s.HandleNotification(f.ctx, payment.Alipay, h, b)
		if st != 200 || err != nil || string(body) != "success" {
			t.Fatalf("%s: %d %q %v", status, st, body, err)
		}
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.AwaitingPayment {
		t.Fatalf("a status notification changed the sale to %s", got.Order.Status)
	}
	ali.pay(s, misbehave{}, false)
	ali.waitFor(s, "paid", isPaid)
}

func TestProviderScenarioRefundMadeByHandIsFlagged(t *testing.T) {
	eachProvider(t, func(t *testing.T, f *fx, d *driver) {
		s := paidSale(f, d)
		prov, _ := f.s.Providers.Get(d.name)
		// Someone refunds on the merchant platform, outside Shelin.
		if _, err := prov.Refund(f.ctx, payment.RefundRequest{PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef, RefundID: "MANUAL-1",
			Amount: money.MustParse("1.00"), Total: s.Order.Total, Reason: "by hand"}); err != nil {
			t.Fatal(err)
		}
		h, b := d.refundNotice(s, "MANUAL-1", "manual-"+payment.Token(), false)
		if st, err := d.deliver(h, b); st != 200 || err != nil {
			t.Fatalf("a refund made by hand: %d %v (answered, so the provider stops)", st, err)
		}
		got := f.sale(s.Order.ID)
		if !got.Payment.Flagged || !strings.Contains(got.Payment.FlagReason, "MANUAL-1") || !isPaid(got) {
			t.Fatalf("the treasurer must see it: flagged %v %q, sale %s", got.Payment.Flagged, got.Payment.FlagReason, got.Order.Status)
		}
	})
}

// WeChat probes merchants with signatures that must fail
// (WECHATPAY/SIGNTEST/…): they are refused and change nothing.
func TestWeChatSignatureProbeIsRefused(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, wechat, _, _, _ := withProviders(f)
	s := wechat.sell(pastry(f))
	wechat.pay(s, misbehave{Drop: true}, false)
	h, b := wechat.payNotice(s, "probe-"+payment.Token(), misbehave{})
	h.Set(payment.WechatpaySignature, "WECHATPAY/SIGNTEST/"+h.Get(payment.WechatpaySignature))
	if st, err := wechat.deliver(h, b); st != 400 || err == nil {
		t.Fatalf("a signature probe: %d %v", st, err)
	}
	h, b = wechat.payNotice(s, "sigtype-"+payment.Token(), misbehave{})
	h.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
	if st, _ := wechat.deliver(h, b); st != 400 {
		t.Fatalf("an unknown signature type: %d", st)
	}
	if got := f.sale(s.Order.ID); got.Order.Status != orders.AwaitingPayment {
		t.Fatalf("a probe changed the sale to %s", got.Order.Status)
	}
}

// A create asked again for a trade the customer already paid (the code of
// an earlier attempt whose answer was lost) is refused by WeChat with
// ORDERPAID: the sale is confirmed, not cancelled.
func TestRemoteCreateOfAPaidTradeConfirmsTheSale(t *testing.T) {
	f := freshSetup(t, 5, 5)
	_, _, _, wx, _ := withProviders(f)
	s := f.mustSell("qr", payment.WeChatPay, nil, pastry(f))
	prov, _ := f.s.Providers.Get(payment.WeChatPay)
	// The first attempt reached WeChat, its answer was lost; the customer paid.
	if _, err := prov.Create(f.ctx, nil, payment.CreateRequest{CommunityID: f.cid, PaymentID: s.Payment.ID, MerchantRef: s.Payment.MerchantRef,
		Amount: s.Order.Total, Description: "x", ExpiresAt: *s.Payment.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	wx.SetNext(misbehave{Drop: true})
	if err := wx.Pay(s.Payment.MerchantRef, false); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateRemotePayment(f.ctx, f.cid, s.Payment.ID); err != nil {
		t.Fatalf("the second create: %v", err)
	}
	if got := f.sale(s.Order.ID); !isPaid(got) {
		t.Fatalf("the sale is %s", got.Order.Status)
	}
}
