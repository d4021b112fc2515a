package reconcile_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
	"shelin/reconcile"
)

func init() { identity.SetFastHashing() }

const secret = "sandbox-test-secret"

// fx is one community with a stall, two volunteers, a treasurer, two
// products in stock, pos wired like serve wires it (sandbox notifications
// captured) and the reconcile service.
type fx struct {
	t       testing.TB
	ctx     context.Context
	d       *sqlx.DB
	s       *pos.Service
	r       *reconcile.Service
	sandbox *payment.SandboxProvider
	cid     string
	stall   string
	vol1    string
	vol2    string
	tres    string
	pastry  string // ¥38.00, cost ¥20.00
	card    string // ¥5.50, cost ¥1.00
	loc     *time.Location

	mu   sync.Mutex
	sent [][]byte
}

func setup(t testing.TB) *fx {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	f := &fx{t: t, ctx: ctx, d: d, loc: time.FixedZone("CST", 8*3600)}
	ids := identity.New(d)
	inv := inventory.New(d)
	f.sandbox = &payment.SandboxProvider{BaseURL: "http://shelin.test", Secret: []byte(secret), DB: d}
	f.sandbox.Enqueue = func(ctx context.Context, tx *sqlx.Tx, body []byte) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sent = append(f.sent, body)
		return nil
	}
	f.s = &pos.Service{DB: d, Inventory: inv, Fund: fund.New(d), Identity: ids, BaseURL: "http://shelin.test",
		Providers: payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, f.sandbox)}
	f.r = reconcile.New(d, ids, f.s)
	slug := "rc-" + orders.MerchantRef()[2:12]
	f.tx(func(tx *sqlx.Tx) error {
		c, err := ids.CreateCommunity(ctx, tx, identity.NewCommunity{Name: "武汉路社区 " + slug, Slug: slug})
		if err != nil {
			return err
		}
		f.cid = c.ID
		mk := func(login string, role identity.Role, name, pin string) string {
			u, err := ids.CreateUser(ctx, tx, c.ID, identity.NewUser{Login: login + "-" + slug, Password: "password-123", Role: role, DisplayName: name, PIN: pin})
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		f.vol1 = mk("wang", identity.Volunteer, "王阿姨", "1234")
		f.vol2 = mk("li", identity.Volunteer, "李叔", "5678")
		f.tres = mk("zhao", identity.Treasurer, "赵会计", "")
		loc, err := inv.CreateLocation(ctx, tx, c.ID, "牡丹园摊位", inventory.KindStall)
		if err != nil {
			return err
		}
		f.stall = loc.ID
		if _, err := f.s.SetupStall(ctx, tx, c.ID, loc.ID, "MD"); err != nil {
			return err
		}
		p1, err := inv.CreateProduct(ctx, tx, c.ID, inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥", Price: "38.00", UnitCost: "20.00"})
		if err != nil {
			return err
		}
		p2, err := inv.CreateProduct(ctx, tx, c.ID, inventory.ProductInput{SKU: "PC-1", Name: "牡丹明信片", Price: "5.50", UnitCost: "1.00"})
		if err != nil {
			return err
		}
		f.pastry, f.card = p1.ID, p2.ID
		_, err = inv.Receive(ctx, tx, c.ID, inventory.ReceiptInput{LocationID: loc.ID, Lines: []inventory.ReceiptLine{{ProductID: p1.ID, Qty: 100}, {ProductID: p2.ID, Qty: 100}}})
		if err != nil {
			return err
		}
		return payment.SaveStaticImage(ctx, tx, c.ID, "", tinyPNG(t), "")
	})
	return f
}

func tinyPNG(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (f *fx) tx(fn func(tx *sqlx.Tx) error) {
	f.t.Helper()
	if err := db.InTx(f.ctx, f.d, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) try(fn func(tx *sqlx.Tx) error) error { return db.InTx(f.ctx, f.d, fn) }

func (f *fx) today() string { return reconcile.Today(time.Now(), f.loc) }

func (f *fx) openShift(float string) *pos.Shift {
	var sh *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		sh, err = f.s.Open(f.ctx, tx, f.cid, pos.OpenShift{LocationID: f.stall, UserID: f.vol1, OpeningFloat: money.MustParse(float)})
		return
	})
	return sh
}

func (f *fx) closeShift(id, counted string) *pos.Shift {
	var sh *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		sh, err = f.s.Close(f.ctx, tx, f.cid, id, money.MustParse(counted), f.vol1)
		return
	})
	return sh
}

func (f *fx) sell(method, provider string, lines ...pos.SaleLine) (*pos.Sale, error) {
	var sale *pos.Sale
	err := f.try(func(tx *sqlx.Tx) (err error) {
		sale, err = f.s.Checkout(f.ctx, tx, f.cid, pos.CheckoutInput{LocationID: f.stall, UserID: f.vol1, Lines: lines, Method: method, Provider: provider})
		return
	})
	return sale, err
}

func (f *fx) mustSell(method, provider string, lines ...pos.SaleLine) *pos.Sale {
	f.t.Helper()
	s, err := f.sell(method, provider, lines...)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// pay taps "pay" in the sandbox wallet and delivers the notification.
func (f *fx) pay(s *pos.Sale) {
	f.t.Helper()
	token := (*s.Payment.QRPayload)[len("http://shelin.test/pay/"):]
	if _, err := f.sandbox.Pay(f.ctx, f.d, token); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	body := f.sent[len(f.sent)-1]
	f.mu.Unlock()
	f.deliver(body)
}

func (f *fx) deliver(body []byte) {
	f.t.Helper()
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign([]byte(secret), time.Now(), body))
	if st, _, _, err := f.s.HandleNotification(f.ctx, payment.Sandbox, h, body); st != 200 {
		f.t.Fatalf("notification %d %v", st, err)
	}
}

func (f *fx) refund(s *pos.Sale, restock bool, items ...orders.RefundItem) *orders.Refund {
	f.t.Helper()
	approver, err := f.s.Approve(f.ctx, f.cid, f.vol1, pos.Approver{UserID: f.vol2, PIN: "5678"})
	if err != nil {
		f.t.Fatal(err)
	}
	var r *orders.Refund
	f.tx(func(tx *sqlx.Tx) (err error) {
		r, err = f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: items, Reason: "顾客退货", Restock: restock, UserID: f.vol1, ApproverID: approver.ID})
		return
	})
	if r.Status == "pending" {
		if err := f.s.SubmitRefund(f.ctx, f.cid, r.ID); err != nil {
			f.t.Fatal(err)
		}
	}
	return r
}

func (f *fx) balance(kind, key string) money.Amount {
	f.t.Helper()
	var b money.Amount
	err := f.d.GetContext(f.ctx, &b, `SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = $2 AND key = $3), 0)`, f.cid, kind, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fx) day() *reconcile.Day {
	f.t.Helper()
	d, err := f.r.Day(f.ctx, f.cid, f.today())
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fx) verify() {
	f.t.Helper()
	r, err := f.s.Verify(f.ctx, f.cid)
	if err != nil {
		f.t.Fatal(err)
	}
	if !r.OK {
		f.t.Fatalf("verify: %v", r.Problems)
	}
}
