package main

import (
	"context"
	"testing"

	"shelin/internal/dbtest"
	"shelin/inventory"
)

// The demo has the Wuhan Road goods at the centre and at the Peony Park
// stall, and its stock levels agree with its movements.
func TestDemoInventory(t *testing.T) {
	ctx, _, d, com := seededDemo(t)
	inv := inventory.New(d)
	bad, err := inv.Verify(ctx, d, com.ID)
	if err != nil || len(bad) > 0 {
		t.Fatalf("verify: %v %+v", err, bad)
	}
	levels, err := inv.Levels(ctx, d, com.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for _, l := range levels {
		at[l.SKU+"@"+l.LocationName] = l.OnHand
	}
	for _, want := range []struct {
		key string
		n   int
	}{{"MDS-6@牡丹公园摊位", 20}, {"MDS-6@邻里中心", 40}, {"ART-PEONY@牡丹公园摊位", 3}, {"TEA@邻里中心", 26}} {
		if at[want.key] != want.n {
			t.Errorf("%s = %d, want %d", want.key, at[want.key], want.n)
		}
	}
	art, err := inv.ProductBySKU(ctx, d, com.ID, "ART-PEONY")
	if err != nil || !art.Consigned() || art.MakerSharePercent.String() != "60" || art.ImageHash == nil {
		t.Fatalf("consigned painting: %+v %v", art, err)
	}
}

// `shelin stock verify` passes on the demo data.
func TestStockVerifyOnTheDemo(t *testing.T) {
	cfg := validConfig()
	cfg.DatabaseURL = dbtest.FreshURL(t)
	if _, err := seedDemo(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cmdStock([]string{"verify", "--database-url", cfg.DatabaseURL}); err != nil {
		t.Fatalf("stock verify: %v", err)
	}
}
