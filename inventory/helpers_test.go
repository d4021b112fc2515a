package inventory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/inventory"
)

// fixture is one community of its own with a store, a stall and helpers.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	db    *sqlx.DB
	inv   *inventory.Store
	cid   string
	store inventory.Location
	stall inventory.Location
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	d := dbtest.Open(t)
	return newFixtureOn(t, d)
}

func newFixtureOn(t testing.TB, d *sqlx.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: d, inv: inventory.New(d)}
	f.cid = newCommunity(t, d)
	f.store = f.location("邻里中心", inventory.KindStore)
	f.stall = f.location("牡丹公园摊位", inventory.KindStall)
	return f
}

func newCommunity(t testing.TB, d *sqlx.DB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	var id string
	if err := d.Get(&id, `INSERT INTO communities (name, slug) VALUES ('武汉路社区', $1) RETURNING id`, "inv-"+hex.EncodeToString(b)); err != nil {
		t.Fatal(err)
	}
	return id
}

// tx runs fn in one retrying transaction.
func (f *fixture) tx(fn func(tx *sqlx.Tx) error) error {
	return db.InTx(f.ctx, f.db, fn)
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) location(name, kind string) inventory.Location {
	f.t.Helper()
	var l inventory.Location
	f.must(f.tx(func(tx *sqlx.Tx) (err error) {
		l, err = f.inv.CreateLocation(f.ctx, tx, f.cid, name, kind)
		return err
	}))
	return l
}

func (f *fixture) product(in inventory.ProductInput) inventory.Product {
	f.t.Helper()
	if in.Price == "" {
		in.Price = "38.00"
	}
	if in.UnitCost == "" {
		in.UnitCost = "20.00"
	}
	if in.Name == "" {
		in.Name = in.SKU
	}
	var p inventory.Product
	f.must(f.tx(func(tx *sqlx.Tx) (err error) {
		p, err = f.inv.CreateProduct(f.ctx, tx, f.cid, in)
		return err
	}))
	return p
}

func (f *fixture) receive(loc string, lines ...inventory.ReceiptLine) inventory.Operation {
	f.t.Helper()
	var op inventory.Operation
	f.must(f.tx(func(tx *sqlx.Tx) (err error) {
		op, err = f.inv.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: loc, Lines: lines})
		return err
	}))
	return op
}

func (f *fixture) reserve(loc string, expires time.Duration, lines ...inventory.Line) (inventory.Reservation, error) {
	var r inventory.Reservation
	err := f.tx(func(tx *sqlx.Tx) (err error) {
		r, err = f.inv.Reserve(f.ctx, tx, f.cid, loc, lines, "test", f.inv.Now().Add(expires))
		return err
	})
	return r, err
}

func (f *fixture) level(productID, locationID string) inventory.Level {
	f.t.Helper()
	lv, err := f.inv.LevelOf(f.ctx, f.db, f.cid, productID, locationID)
	f.must(err)
	return lv
}

func (f *fixture) checkLevel(productID, locationID string, onHand, reserved int) {
	f.t.Helper()
	lv := f.level(productID, locationID)
	if lv.OnHand != onHand || lv.Reserved != reserved || lv.Available != onHand-reserved {
		f.t.Fatalf("level of %s at %s = on hand %d reserved %d available %d; want %d, %d, %d",
			lv.ProductName, lv.LocationName, lv.OnHand, lv.Reserved, lv.Available, onHand, reserved, onHand-reserved)
	}
}

// verify fails the test when levels disagree with movements or lots.
func (f *fixture) verify() {
	f.t.Helper()
	bad, err := f.inv.Verify(f.ctx, f.db, f.cid)
	f.must(err)
	if len(bad) > 0 {
		f.t.Fatalf("levels disagree with movements/lots: %+v", bad)
	}
}

func movementCount(t testing.TB, d *sqlx.DB, cid string) int {
	t.Helper()
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM stock_movements WHERE community_id = $1`, cid); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantCode fails unless err carries code (and field, when not empty).
func wantCode(t testing.TB, err error, code apperr.Code, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("error = %v; want code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v); want %s", e.Code, err, code)
	}
	if field != "" && e.Field != field {
		t.Fatalf("field = %q (%v); want %q", e.Field, err, field)
	}
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// date is today plus days in the community's time zone, as YYYY-MM-DD.
func date(days int) string { return time.Now().In(shanghai).AddDate(0, 0, days).Format(time.DateOnly) }
