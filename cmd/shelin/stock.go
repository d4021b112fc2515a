package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

// cmdStock runs stock maintenance: `shelin stock verify` proves, for every
// community, that each stock level equals the sum of its movements and of its
// lots, and that reserved equals what held reservations hold.
func cmdStock(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: shelin stock verify [--database-url URL]")
	}
	d, err := openForCommand("stock verify", args[1:])
	if err != nil {
		return err
	}
	defer d.Close()
	return stockVerify(context.Background(), d)
}

// stockVerify checks every stock level and ends with a summary line.
func stockVerify(ctx context.Context, d *sqlx.DB) error {
	bad, err := inventory.New(d).Verify(ctx, d, "")
	if err != nil {
		return err
	}
	for _, m := range bad {
		fmt.Printf("MISMATCH community %s product %s location %s: on hand %d, movements %d, lots %d, reserved %d, held %d\n",
			m.CommunityID, m.ProductID, m.LocationID, m.OnHand, m.Movements, m.Lots, m.Reserved, m.Held)
	}
	if len(bad) > 0 {
		return fmt.Errorf("stock verify: %d mismatches", len(bad))
	}
	var levels int
	if err := d.GetContext(ctx, &levels, `SELECT count(*) FROM stock_levels`); err != nil {
		return err
	}
	fmt.Printf("stock verify: %d stock level(s): every level equals its movements and lots; reservations match\n", levels)
	return nil
}
