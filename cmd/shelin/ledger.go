package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/identity"
)

// cmdLedger runs ledger maintenance: `shelin ledger verify` proves, for every
// community, that entries balance and stored balances equal their postings.
func cmdLedger(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: shelin ledger verify [--database-url URL]")
	}
	d, err := openForCommand("ledger verify", args[1:])
	if err != nil {
		return err
	}
	defer d.Close()
	return ledgerVerify(context.Background(), d)
}

// ledgerVerify checks every community's ledger and always ends with a
// summary line, also on an empty database.
func ledgerVerify(ctx context.Context, d *sqlx.DB) error {
	results, err := fund.New(d).VerifyAll(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	coms, err := identity.New(d).Communities(ctx)
	if err != nil {
		return err
	}
	for _, c := range coms {
		names[c.ID] = c.Slug
	}
	ids := make([]string, 0, len(results))
	for id := range results {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return names[ids[i]] < names[ids[j]] })
	bad, entries := 0, 0
	for _, id := range ids {
		r := results[id]
		entries += r.Entries
		status := "ok"
		if !r.OK {
			status = "PROBLEMS"
			bad++
		}
		fmt.Printf("%-20s %-8s %d entries\n", names[id], status, r.Entries)
		for _, p := range r.Problems {
			fmt.Printf("    %s\n", p)
		}
	}
	if bad > 0 {
		return fmt.Errorf("ledger verify: %d of %d community ledger(s) have problems", bad, len(ids))
	}
	if len(ids) == 0 {
		fmt.Printf("ledger verify: no ledgers yet (%d communities, 0 entries): nothing to disagree\n", len(coms))
		return nil
	}
	fmt.Printf("ledger verify: %d community ledger(s), %d entries: every entry balances and every balance equals its postings\n", len(ids), entries)
	return nil
}
