package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/identity"
	"shelin/inventory"
	"shelin/pos"
)

// cmdVerify is `shelin verify` (and its alias `shelin ledger verify`): for
// every community, in one snapshot each, the fund's invariants, stock
// against movements, and every sale's money and stock against the ledger.
// It prints each violation with the ids involved and fails when there is one.
func cmdVerify(name string, args []string) error {
	d, err := openForCommand(name, args)
	if err != nil {
		return err
	}
	defer d.Close()
	return ledgerVerify(context.Background(), d)
}

// errorsJoin joins the errors of several checks.
func errorsJoin(errs ...error) error { return errors.Join(errs...) }

// ledgerVerify is the whole-system verification of every community; it
// always ends with a summary line, also on an empty database.
func ledgerVerify(ctx context.Context, d *sqlx.DB) error {
	svc := &pos.Service{DB: d, Inventory: inventory.New(d), Fund: fund.New(d)}
	svc.Verifiers = []pos.Verifier{&groupbuy.Service{DB: d}} // group-buys' own invariants
	reports, ids, err := svc.VerifyAll(ctx)
	if err != nil {
		return err
	}
	coms, err := identity.New(d).Communities(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, c := range coms {
		names[c.ID] = c.Slug
	}
	bad, entries, sales := 0, 0, 0
	for _, id := range ids {
		r := reports[id]
		status := "ok"
		if !r.OK {
			status = "PROBLEMS"
			bad++
		}
		entries += r.Entries
		sales += r.Sales
		fmt.Printf("%-20s %-8s %d entries, %d sales\n", names[id], status, r.Entries, r.Sales)
		for _, p := range r.Problems {
			fmt.Printf("    %s\n", p)
		}
	}
	switch {
	case len(ids) == 0:
		fmt.Println("ledger verify: no ledgers yet (no communities)")
	case bad == 0:
		fmt.Printf("verified %d communities, %d ledger entries, %d sales: every entry balances and every sale agrees with the ledger and the stock\n",
			len(ids), entries, sales)
	default:
		fmt.Printf("verified %d communities, %d ledger entries, %d sales: %d with problems\n", len(ids), entries, sales, bad)
	}
	if bad > 0 {
		return errors.New("verification found problems")
	}
	return nil
}
