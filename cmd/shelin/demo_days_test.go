package main

import (
	"sort"
	"strings"
	"testing"
	"time"

	"shelin/identity"
	"shelin/reconcile"
)

// The demo's days: three closed days with a sound Z-report chain, and today
// open with exactly one cash variance and one unmatched statement row
// besides the shift still selling.
func TestDemoDays(t *testing.T) {
	ctx, _, d, com := seededDemo(t)
	rec := reconcile.New(d, identity.New(d), nil)
	loc := com.Location()
	for i := 1; i <= 3; i++ {
		day, err := rec.Day(ctx, com.ID, time.Now().In(loc).AddDate(0, 0, -i).Format("2006-01-02"))
		if err != nil || day.Status != "closed" {
			t.Fatalf("day -%d: %+v %v", i, day, err)
		}
	}
	if n, problems, err := rec.VerifyChain(ctx, com.ID); err != nil || n != 3 || len(problems) != 0 {
		t.Fatalf("chain %d %v %v", n, problems, err)
	}
	today, err := rec.Day(ctx, com.ID, reconcile.Today(time.Now(), loc))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, is := range today.Issues {
		if is.Status == "open" {
			kinds = append(kinds, is.Kind)
		}
	}
	sort.Strings(kinds)
	if got := strings.Join(kinds, ","); today.Status != "open" || got != "missing_in_shelin,shift_open,shift_variance" {
		t.Fatalf("today %s: %s", today.Status, got)
	}
	// The stall's two sandbox sales and the group-buys' wallet payments and
	// refunds all match; only the planted unknown row does not.
	if today.Statements.Matched < 2 || today.Statements.MissingInShelin != 1 || today.Statements.MissingInStatement != 0 {
		t.Fatalf("statements %+v", today.Statements)
	}
}
