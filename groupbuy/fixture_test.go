package groupbuy_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

const secret = "gb-test-secret"

// flaky is the sandbox with refunds that fail (transiently) the first time
// for the refund ids in failOnce.
type flaky struct {
	*payment.SandboxProvider
	mu       sync.Mutex
	failOnce map[string]bool
	calls    atomic.Int64
}

func (f *flaky) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	f.calls.Add(1)
	f.mu.Lock()
	fail := f.failOnce[r.RefundID]
	delete(f.failOnce, r.RefundID)
	f.mu.Unlock()
	if fail {
		return payment.RefundResult{}, errors.New("sandbox: connection reset (simulated)")
	}
	return f.SandboxProvider.Refund(ctx, r)
}

type fx struct {
	t       testing.TB
	ctx     context.Context
	d       *sqlx.DB
	gb      *groupbuy.Service
	pos     *pos.Service
	sandbox *flaky
	cid     string
	leader  string
	product string
	stall   string
	clock   atomic.Pointer[time.Time]

	mu   sync.Mutex
	sent map[string][]byte // notifications queued by the wallet, by merchant ref
}

func (f *fx) now() time.Time {
	if t := f.clock.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// advance moves the service clock forward.
func (f *fx) advance(d time.Duration) {
	t := f.now().Add(d)
	f.clock.Store(&t)
}

func setup(t testing.TB) *fx {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	f := &fx{t: t, ctx: ctx, d: d, sent: map[string][]byte{}}
	sb := &payment.SandboxProvider{BaseURL: "http://shelin.test", Secret: []byte(secret), DB: d, Now: f.now}
	sb.Enqueue = func(ctx context.Context, tx *sqlx.Tx, body []byte) error {
		var ref string
		if err := tx.GetContext(ctx, &ref, `SELECT merchant_ref FROM sandbox_payments WHERE payment_id = ($1::jsonb->'data'->>'payment_id')::uuid`, string(body)); err != nil {
			// refund notifications: keep them by body
			ref = string(body)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sent[ref] = body
		return nil
	}
	f.sandbox = &flaky{SandboxProvider: sb, failOnce: map[string]bool{}}
	reg := payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, f.sandbox)
	inv := inventory.New(d)
	ledger := fund.New(d)
	f.gb = &groupbuy.Service{DB: d, Inventory: inv, Fund: ledger, Providers: reg, BaseURL: "http://shelin.test", Now: f.now}
	f.pos = &pos.Service{DB: d, Inventory: inv, Fund: ledger, Identity: identity.New(d), BaseURL: "http://shelin.test", Providers: reg,
		Now: f.now, Channels: map[string]pos.ChannelNotifications{groupbuy.Channel: f.gb}, Verifiers: []pos.Verifier{f.gb}}
	slug := "gb-" + strings.ToLower(orders.MerchantRef()[2:12])
	f.tx(func(tx *sqlx.Tx) error {
		ids := identity.New(d)
		c, err := ids.CreateCommunity(ctx, tx, identity.NewCommunity{Name: "武汉路社区 " + slug, Slug: slug})
		if err != nil {
			return err
		}
		f.cid = c.ID
		u, err := ids.CreateUser(ctx, tx, c.ID, identity.NewUser{Login: "lz-" + slug, Password: "password-123", Role: identity.Leader, DisplayName: "赵邻长"})
		if err != nil {
			return err
		}
		f.leader = u.ID
		no := false
		p, err := inv.CreateProduct(ctx, tx, c.ID, inventory.ProductInput{SKU: "TEA-1", Name: "洛阳牡丹花茶", Price: "30.00", UnitCost: "25.00", TrackStock: &no})
		if err != nil {
			return err
		}
		f.product = p.ID
		loc, err := inv.CreateLocation(ctx, tx, c.ID, "邻里小站", inventory.KindStore)
		f.stall = loc.ID
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

// campaign opens a campaign of 花茶 at ¥30 with ¥5 per unit for the fund.
func (f *fx) campaign(minQty, maxQty int, perPerson *int, change func(*groupbuy.CampaignInput)) *groupbuy.Campaign {
	f.t.Helper()
	in := groupbuy.CampaignInput{Title: "洛阳牡丹花茶 满20罐成团", ProductID: f.product, Price: money.MustParse("30.00"),
		FundPerUnit: money.MustParse("5.00"), MinQty: minQty, MaxQty: maxQty, PerPersonMax: perPerson,
		Deadline: f.now().Add(48 * time.Hour), PickupPoint: "邻里小站（3号楼下）", MicroGrid: "第3微网格", CreatedBy: f.leader}
	if change != nil {
		change(&in)
	}
	var c *groupbuy.Campaign
	f.tx(func(tx *sqlx.Tx) (err error) {
		c, err = f.gb.Create(f.ctx, tx, f.cid, in)
		return
	})
	return c
}

func (f *fx) join(c *groupbuy.Campaign, name, phone, building string, qty int) (*groupbuy.Joined, error) {
	var j *groupbuy.Joined
	err := db.InTx(f.ctx, f.d, func(tx *sqlx.Tx) (err error) {
		j, err = f.gb.Join(f.ctx, tx, c.Token, groupbuy.JoinInput{Name: name, Phone: phone, Building: building, Qty: qty, Provider: payment.Sandbox})
		return
	})
	return j, err
}

func (f *fx) mustJoin(c *groupbuy.Campaign, name, phone, building string, qty int) *groupbuy.Joined {
	f.t.Helper()
	j, err := f.join(c, name, phone, building, qty)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// payInWallet taps "pay" in the sandbox wallet and returns the signed
// notification it queued (not yet delivered).
func (f *fx) payInWallet(j *groupbuy.Joined) ([]byte, error) {
	token := strings.TrimPrefix(*j.Payment.QRPayload, "http://shelin.test/pay/")
	if _, err := f.sandbox.Pay(f.ctx, f.d, token); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.sent[j.Payment.MerchantRef]
	if !ok {
		return nil, errors.New("no notification queued")
	}
	return b, nil
}

// deliver posts a notification to the webhook path (pos.HandleNotification),
// as the delivery job would.
func (f *fx) deliver(body []byte) (int, error) {
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign([]byte(secret), f.now(), body))
	st, _, _, err := f.pos.HandleNotification(f.ctx, payment.Sandbox, h, body)
	return st, err
}

// pay pays a join in the wallet and delivers its notification.
func (f *fx) pay(j *groupbuy.Joined) {
	f.t.Helper()
	b, err := f.payInWallet(j)
	if err != nil {
		f.t.Fatal(err)
	}
	if st, err := f.deliver(b); err != nil || st != http.StatusOK {
		f.t.Fatalf("deliver: %d %v", st, err)
	}
}

func (f *fx) joinRow(id string) groupbuy.Join {
	f.t.Helper()
	var j groupbuy.Join
	if err := f.d.GetContext(f.ctx, &j, `SELECT id, status, qty, amount, pickup_code, picked_up_at, paid_at, order_id, payment_id, campaign_id
		FROM groupbuy_joins WHERE id=$1`, id); err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fx) get(c *groupbuy.Campaign) *groupbuy.Campaign {
	f.t.Helper()
	got, err := f.gb.Get(f.ctx, f.d, f.cid, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// verify runs the whole-system verify (fund, stock, sales, group-buys).
func (f *fx) verify() {
	f.t.Helper()
	rep, err := f.pos.Verify(f.ctx, f.cid)
	if err != nil {
		f.t.Fatal(err)
	}
	if !rep.OK {
		f.t.Fatalf("verify: %d problems:\n%s", len(rep.Problems), strings.Join(rep.Problems, "\n"))
	}
}

func (f *fx) escrow() money.Amount {
	f.t.Helper()
	var bal money.Amount
	err := f.d.GetContext(f.ctx, &bal, `SELECT COALESCE(-(SELECT balance FROM ledger_accounts WHERE community_id=$1 AND kind='groupbuy_escrow' AND key=''), 0)`, f.cid)
	if err != nil {
		f.t.Fatal(err)
	}
	return bal
}
