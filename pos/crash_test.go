package pos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"shelin/fund"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

// TestMain runs this test binary as the crashing stall process when asked
// (see TestRefundCrashKillsTheProcessAfterTheProviderAnswered).
func TestMain(m *testing.M) {
	if os.Getenv("SHELIN_CRASH_CHILD") == "1" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// killedAfterAnswer is a provider whose process dies (exit 3) the moment
// the provider has answered a refund, before anything is booked.
type killedAfterAnswer struct{ payment.Provider }

func (k killedAfterAnswer) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	res, err := k.Provider.Refund(ctx, r)
	fmt.Fprintf(os.Stderr, "provider answered %+v %v; killing the process\n", res, err)
	os.Exit(3)
	return res, err
}

func crashChild() int {
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv("SHELIN_CRASH_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m := payment.NewMerchants(d, []byte("test-secret-key-0123456789abcdef"))
	var prov payment.Provider = &payment.WeChatProvider{Merchants: m, Host: os.Getenv("SHELIN_CRASH_WX"), NotifyURL: "http://127.0.0.1:1/unused"}
	if os.Getenv("SHELIN_CRASH_PROVIDER") == payment.Alipay {
		prov = &payment.AlipayProvider{Merchants: m, Gateway: os.Getenv("SHELIN_CRASH_AP"), NotifyURL: "http://127.0.0.1:1/unused"}
	}
	s := &pos.Service{DB: d, Inventory: inventory.New(d), Fund: fund.New(d), Providers: payment.NewRegistry(killedAfterAnswer{prov})}
	err = s.SubmitRefund(ctx, os.Getenv("SHELIN_CRASH_CID"), os.Getenv("SHELIN_CRASH_REFUND"))
	fmt.Fprintln(os.Stderr, "the refund went through without the crash:", err)
	return 1
}

// The process is killed between the provider's refund answer and its
// booking: on restart the refund is booked once and never sent again.
func TestRefundCrashKillsTheProcessAfterTheProviderAnswered(t *testing.T) {
	url := dbtest.FreshURL(t)
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f := setupOn(t, d, 5, 5)
	_, wechat, ali, wx, ap := withProviders(f)
	wx.SetNext(misbehave{Drop: true}) // no refund notification either: only a restart can book it
	ap.SetNext(misbehave{Drop: true})
	for _, dr := range []*driver{wechat, ali} {
		t.Run(dr.name, func(t *testing.T) {
			s := paidSale(f, dr)
			wx.SetNext(misbehave{Drop: true})
			ap.SetNext(misbehave{Drop: true})
			r := refundCard(f, s)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SHELIN_CRASH_CHILD=1", "SHELIN_CRASH_DB="+url, "SHELIN_CRASH_WX="+wx.URL, "SHELIN_CRASH_AP="+ap.URL,
				"SHELIN_CRASH_PROVIDER="+dr.name, "SHELIN_CRASH_CID="+f.cid, "SHELIN_CRASH_REFUND="+r.ID)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("the stall process was to be killed after the provider answered: %v\n%s", err, out)
			}
			if refundStatus(f, r.ID) != orders.PaymentPending || dr.refunded(s).String() != "5.50" {
				t.Fatalf("after the kill: refund %s, provider refunded %s", refundStatus(f, r.ID), dr.refunded(s))
			}
			count := func() int {
				if dr.name == payment.WeChatPay {
					return wx.Count("POST /v3/refund/domestic/refunds")
				}
				return ap.Count("alipay.trade.refund")
			}
			before := count()
			// Restart: the refund job runs again (SubmitRefund, and the sweep).
			if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
				t.Fatal(err)
			}
			if n, err := f.s.SweepRefunds(f.ctx, -1, 100); err != nil || n != 0 {
				t.Fatalf("sweep after the restart: %d %v", n, err)
			}
			if count() != before {
				t.Fatalf("the refund was sent again after the restart (%d → %d)", before, count())
			}
			if refundStatus(f, r.ID) != orders.PaymentSucceeded || dr.refunded(s).String() != "5.50" || f.account("customer_refunds_payable", "") != "0.00" {
				t.Fatalf("after the restart: refund %s, provider refunded %s, suspense %s", refundStatus(f, r.ID), dr.refunded(s), f.account("customer_refunds_payable", ""))
			}
		})
	}
	f.verifyLedger()
}
