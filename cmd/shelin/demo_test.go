package main

import (
	"context"
	"testing"

	"shelin/internal/dbtest"
)

// The demo loads through the domain code on a fresh database, and a second
// load changes nothing (make run reuses its data).
func TestSeedDemoLoadsOnceThroughTheDomainCode(t *testing.T) {
	ctx := context.Background()
	cfg := validConfig()
	cfg.DatabaseURL = dbtest.FreshURL(t)
	cfg.BaseURL = "http://localhost:8080"
	if _, err := seedDemo(ctx, cfg); err != nil {
		t.Fatalf("first load: %v", err)
	}
	d, err := openDB(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	count := func() (n int) {
		if err := d.Get(&n, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM audit_log)`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	var users int
	d.Get(&users, `SELECT count(*) FROM users u JOIN communities c ON c.id = u.community_id WHERE c.slug='wuhanlu'`)
	if users < 5 {
		t.Fatalf("demo has %d users, want one per role at least", users)
	}
	if _, err := seedDemo(ctx, cfg); err != nil {
		t.Fatalf("second load: %v", err)
	}
	if after := count(); after != before {
		t.Fatalf("second load changed the data: %d rows → %d", before, after)
	}
}

// `shelin ledger verify` passes on the demo data.
func TestLedgerVerifyOnTheDemo(t *testing.T) {
	cfg := validConfig()
	cfg.DatabaseURL = dbtest.FreshURL(t)
	if _, err := seedDemo(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cmdLedger([]string{"verify", "--database-url", cfg.DatabaseURL}); err != nil {
		t.Fatalf("ledger verify: %v", err)
	}
}
