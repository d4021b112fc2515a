package main

import (
	"context"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/dbtest"
)

var (
	demoOnce sync.Once
	demoCfg  config
	demoErr  error
)

// seededDemo loads the demo once per test process into a fresh database and
// returns an open pool on it with the demo community. Tests only read it.
func seededDemo(t *testing.T) (context.Context, config, *sqlx.DB, identity.Community) {
	t.Helper()
	ctx := context.Background()
	demoOnce.Do(func() {
		demoCfg = validConfig()
		demoCfg.DatabaseURL = dbtest.FreshURL(t)
		demoCfg.BaseURL = "http://localhost:8080"
		_, demoErr = seedDemo(ctx, demoCfg)
	})
	if demoErr != nil {
		t.Fatalf("demo: %v", demoErr)
	}
	d, err := openDB(ctx, demoCfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	com, err := identity.New(d).CommunityBySlug(ctx, demoSlug)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, demoCfg, d, com
}

// The demo loads through the domain code on a fresh database, and a second
// load changes nothing (make run reuses its data).
func TestSeedDemoLoadsOnceThroughTheDomainCode(t *testing.T) {
	ctx, cfg, d, com := seededDemo(t)
	count := func() (n int) {
		if err := d.Get(&n, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM ledger_entries)`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	var users int
	d.Get(&users, `SELECT count(*) FROM users WHERE community_id=$1`, com.ID)
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

// `shelin ledger verify` and `shelin stock verify` pass on the demo data.
func TestVerifyCommandsOnTheDemo(t *testing.T) {
	_, cfg, _, _ := seededDemo(t)
	if err := cmdLedger([]string{"verify", "--database-url", cfg.DatabaseURL}); err != nil {
		t.Fatalf("ledger verify: %v", err)
	}
	if err := cmdStock([]string{"verify", "--database-url", cfg.DatabaseURL}); err != nil {
		t.Fatalf("stock verify: %v", err)
	}
}
