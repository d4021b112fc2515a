package groupbuy_test

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/inventory"
)

// TestStockHeldCampaign: a campaign of goods the station already holds
// reserves stock for each join; an expired join releases it, a failed
// campaign releases it, a succeeded one commits it (sale movements).
func TestStockHeldCampaign(t *testing.T) {
	f := setup(t)
	inv := inventory.New(f.d)
	var product string
	f.tx(func(tx *sqlx.Tx) error {
		p, err := inv.CreateProduct(f.ctx, tx, f.cid, inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥", Price: "38.00", UnitCost: "20.00"})
		if err != nil {
			return err
		}
		product = p.ID
		_, err = inv.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: f.stall, Lines: []inventory.ReceiptLine{{ProductID: p.ID, Qty: 5}}})
		return err
	})
	level := func() inventory.Level {
		l, err := inv.LevelOf(f.ctx, f.d, f.cid, product, f.stall)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	mk := func(minQty int) *groupbuy.Campaign {
		return f.campaign(minQty, 10, nil, func(in *groupbuy.CampaignInput) { in.ProductID, in.LocationID = product, f.stall })
	}
	ok := mk(3)
	a := f.mustJoin(ok, "甲", "13600000001", "1号楼", 2)
	b := f.mustJoin(ok, "乙", "13600000002", "1号楼", 2)
	if _, err := f.join(ok, "丙", "13600000003", "1号楼", 2); !apperr.Is(err, apperr.InsufficientStock) {
		t.Fatalf("joining beyond the stock: %v", err)
	}
	if l := level(); l.Reserved != 4 || l.Available != 1 {
		t.Fatalf("after two joins: %+v", l)
	}
	f.pay(a)
	f.advance(16 * time.Minute) // b never pays
	if _, err := f.gb.SweepExpired(f.ctx, 5000); err != nil {
		t.Fatal(err)
	}
	if st := f.joinRow(b.Join.ID).Status; st != groupbuy.JoinExpired {
		t.Fatalf("unpaid join %s", st)
	}
	if l := level(); l.Reserved != 2 || l.Available != 3 {
		t.Fatalf("after expiry: %+v", l)
	}
	c := f.mustJoin(ok, "丙", "13600000003", "1号楼", 1)
	f.pay(c)
	if _, err := f.gb.Settle(f.ctx, f.cid, ok.ID); err != nil {
		t.Fatal(err)
	}
	if l := level(); l.OnHand != 2 || l.Reserved != 0 || l.Available != 2 {
		t.Fatalf("after success: %+v", l)
	}
	failing := mk(5)
	d := f.mustJoin(failing, "丁", "13600000004", "2号楼", 2)
	f.pay(d)
	if l := level(); l.Reserved != 2 || l.Available != 0 {
		t.Fatalf("second campaign: %+v", l)
	}
	if _, err := f.gb.Settle(f.ctx, f.cid, failing.ID); err != nil {
		t.Fatal(err)
	}
	if l := level(); l.OnHand != 2 || l.Reserved != 0 || l.Available != 2 {
		t.Fatalf("after failure: %+v", l)
	}
	if _, err := f.gb.SweepRefunds(f.ctx, -time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	f.verify()
}
