package main

import "errors"

// cmdLedger runs ledger maintenance: `shelin ledger verify` proves, for every
// community, that entries balance and stored balances equal their postings.
func cmdLedger(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: shelin ledger verify [--database-url URL]")
	}
	return cmdVerify("ledger verify", args[1:])
}
