package pos_test

import (
	"context"
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
)

func init() { identity.SetFastHashing() }

const secret = "sandbox-test-secret"

// fx is one community with a stall, three people with PINs, two products in
// stock and a pos.Service wired like serve wires it, except that sandbox
// notifications are captured instead of queued.
type fx struct {
	t       testing.TB
	ctx     context.Context
	d       *sqlx.DB
	s       *pos.Service
	sandbox *payment.SandboxProvider
	cid     string
	stall   string
	vol1    string // 王阿姨, PIN 1234
	vol2    string // 李叔, PIN 5678
	admin   string // PIN 9999
	pastry  string // 牡丹酥 ¥38.00, cost ¥20.00
	card    string // 明信片 ¥5.50, cost ¥1.00

	mu   sync.Mutex
	sent [][]byte // sandbox notifications waiting to be delivered
}

func setup(t testing.TB, pastryStock, cardStock int) *fx {
	t.Helper()
	return setupOn(t, dbtest.Open(t), pastryStock, cardStock)
}

// setupOn is setup on a database of the test's choosing.
func setupOn(t testing.TB, d *sqlx.DB, pastryStock, cardStock int) *fx {
	t.Helper()
	ctx := context.Background()
	f := &fx{t: t, ctx: ctx, d: d}
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
	slug := "pos-" + orders.MerchantRef()[2:12]
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
		f.admin = mk("admin", identity.Admin, "管理员", "9999")
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
		var lines []inventory.ReceiptLine
		if pastryStock > 0 {
			lines = append(lines, inventory.ReceiptLine{ProductID: p1.ID, Qty: pastryStock})
		}
		if cardStock > 0 {
			lines = append(lines, inventory.ReceiptLine{ProductID: p2.ID, Qty: cardStock})
		}
		if len(lines) > 0 {
			_, err = inv.Receive(ctx, tx, c.ID, inventory.ReceiptInput{LocationID: loc.ID, Lines: lines})
		}
		return err
	})
	return f
}

func (f *fx) tx(fn func(tx *sqlx.Tx) error) {
	f.t.Helper()
	if err := db.InTx(f.ctx, f.d, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) try(fn func(tx *sqlx.Tx) error) error { return db.InTx(f.ctx, f.d, fn) }

func (f *fx) openShift(float string) *pos.Shift {
	var sh *pos.Shift
	f.tx(func(tx *sqlx.Tx) (err error) {
		sh, err = f.s.Open(f.ctx, tx, f.cid, pos.OpenShift{LocationID: f.stall, UserID: f.vol1, OpeningFloat: money.MustParse(float)})
		return
	})
	return sh
}

func amt(s string) *money.Amount { a := money.MustParse(s); return &a }

func (f *fx) sell(method, provider string, tendered *money.Amount, lines ...pos.SaleLine) (*pos.Sale, error) {
	var sale *pos.Sale
	err := f.try(func(tx *sqlx.Tx) (err error) {
		sale, err = f.s.Checkout(f.ctx, tx, f.cid, pos.CheckoutInput{LocationID: f.stall, UserID: f.vol1, Lines: lines,
			Method: method, Provider: provider, Tendered: tendered})
		return
	})
	return sale, err
}

func (f *fx) mustSell(method, provider string, tendered *money.Amount, lines ...pos.SaleLine) *pos.Sale {
	f.t.Helper()
	s, err := f.sell(method, provider, tendered, lines...)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fx) sale(id string) *pos.Sale {
	f.t.Helper()
	s, err := f.s.GetSale(f.ctx, f.d, f.cid, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// payInWallet taps "pay" on the sandbox page of a sale and returns the
// notification the sandbox queued.
func (f *fx) payInWallet(s *pos.Sale) []byte {
	f.t.Helper()
	token := (*s.Payment.QRPayload)[len("http://shelin.test/pay/"):]
	if _, err := f.sandbox.Pay(f.ctx, f.d, token); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.sent[len(f.sent)-1]
	return b
}

// deliver posts a notification to the webhook as the queue would, signed at t.
func (f *fx) deliver(body []byte, t time.Time, key string) (int, error) {
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign([]byte(key), t, body))
	st, _, _, err := f.s.HandleNotification(f.ctx, payment.Sandbox, h, body)
	return st, err
}

func (f *fx) level(product string) inventory.Level {
	f.t.Helper()
	l, err := f.s.Inventory.LevelOf(f.ctx, f.d, f.cid, product, f.stall)
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *fx) fundBalance() money.Amount {
	f.t.Helper()
	sum, err := f.s.Fund.FundSummary(f.ctx, f.d, f.cid)
	if err != nil {
		f.t.Fatal(err)
	}
	return sum.Balance
}

// verifyLedger runs the whole-system verify (fund, stock, sales).
func (f *fx) verifyLedger() {
	f.t.Helper()
	r, err := f.s.Verify(f.ctx, f.cid)
	if err != nil {
		f.t.Fatal(err)
	}
	if !r.OK {
		f.t.Fatalf("verify: %v", r.Problems)
	}
}

func timeNow() time.Time { return time.Now() }
