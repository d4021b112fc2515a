package main

import (
	"context"
	"errors"
)

// cmdVerify is `shelin verify`: the ledger and the stock checks together,
// each ending with its summary line; it fails when either finds a problem.
func cmdVerify(args []string) error {
	d, err := openForCommand("verify", args)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	return errors.Join(ledgerVerify(ctx, d), stockVerify(ctx, d))
}

func errorsJoin(errs ...error) error { return errors.Join(errs...) }
