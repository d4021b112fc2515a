package inventory_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

// After any random sequence of receipts, transfers, reservations, commits,
// releases, expiries, restocks, counts and write-offs, every stock level
// equals the sum of its movements and of its lots, reserved equals what held
// reservations hold, nothing is negative, and the levels match a simple model
// of what each operation should do.
func TestRandomOperationsKeepLevelsEqualToMovements(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { randomRun(t, seed, 150) })
	}
}

type key struct{ p, l string }

func randomRun(t *testing.T, seed uint64, steps int) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(seed, 42))
	now := time.Now()
	f.inv.Now = func() time.Time { return now }
	var ps []inventory.Product
	for i, perishable := range []bool{false, true, true, false} {
		ps = append(ps, f.product(inventory.ProductInput{SKU: fmt.Sprintf("P%d", i), Name: fmt.Sprintf("商品%d", i), Perishable: perishable}))
	}
	free := f.product(inventory.ProductInput{SKU: "SERVICE", Name: "包装服务", TrackStock: new(bool)})
	locs := []inventory.Location{f.store, f.stall}
	onHand := map[key]int{}
	reserved := map[key]int{}
	type held struct {
		r     inventory.Reservation
		lines []inventory.Line
	}
	var open []held

	pick := func() (inventory.Product, inventory.Location) {
		return ps[rng.IntN(len(ps))], locs[rng.IntN(len(locs))]
	}
	// Units of perishable goods in lots past best-before are not sellable;
	// the model tolerates the checks refusing them.
	for step := 0; step < steps; step++ {
		op := rng.IntN(10)
		p, l := pick()
		k := key{p.ID, l.ID}
		var err error
		switch op {
		case 0, 1: // receipt
			q := 1 + rng.IntN(8)
			err = f.tx(func(tx *sqlx.Tx) error {
				_, err := f.inv.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: l.ID, Lines: []inventory.ReceiptLine{{
					ProductID: p.ID, Qty: q, LotCode: fmt.Sprintf("L%d", rng.IntN(3)), BestBefore: now.In(shanghai).AddDate(0, 0, rng.IntN(4)).Format(time.DateOnly)}}})
				return err
			})
			if err == nil {
				onHand[k] += q
			}
		case 2: // transfer to the other location
			to := locs[1-indexOf(locs, l)]
			q := 1 + rng.IntN(5)
			err = f.tx(func(tx *sqlx.Tx) error {
				_, err := f.inv.Transfer(f.ctx, tx, f.cid, inventory.TransferInput{FromLocationID: l.ID, ToLocationID: to.ID, Lines: []inventory.Line{{ProductID: p.ID, Qty: q}}})
				return err
			})
			if err == nil {
				onHand[k] -= q
				onHand[key{p.ID, to.ID}] += q
			} else if onHand[k]-reserved[k] >= q {
				t.Fatalf("step %d: transfer of %d refused with %d available: %v", step, q, onHand[k]-reserved[k], err)
			}
		case 3, 4: // reserve (with an untracked line)
			q := 1 + rng.IntN(4)
			lines := []inventory.Line{{ProductID: p.ID, Qty: q}, {ProductID: free.ID, Qty: 1}}
			var r inventory.Reservation
			r, err = f.reserve(l.ID, time.Duration(1+rng.IntN(10))*time.Minute, lines...)
			if err == nil {
				reserved[k] += q
				open = append(open, held{r, lines[:1]})
			} else if !p.Perishable && onHand[k]-reserved[k] >= q {
				t.Fatalf("step %d: reservation of %d refused with %d available: %v", step, q, onHand[k]-reserved[k], err)
			}
		case 5, 6: // commit or release an open reservation
			if len(open) == 0 {
				continue
			}
			i := rng.IntN(len(open))
			h := open[i]
			open = append(open[:i], open[i+1:]...)
			hk := key{h.lines[0].ProductID, h.r.LocationID}
			if op == 5 {
				err = f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, h.r.ID, "sale:"+h.r.ID) })
				if err == nil {
					onHand[hk] -= h.lines[0].Qty
					reserved[hk] -= h.lines[0].Qty
				}
			} else {
				err = f.tx(func(tx *sqlx.Tx) error { return f.inv.Release(f.ctx, tx, f.cid, h.r.ID) })
				if err == nil {
					reserved[hk] -= h.lines[0].Qty
				}
			}
			if err != nil && h.r.ExpiresAt.After(now) {
				t.Fatalf("step %d: %v", step, err)
			}
		case 7: // time passes; the sweep expires what is due
			now = now.Add(time.Duration(rng.IntN(12)) * time.Hour)
			_, err = f.inv.SweepExpired(f.ctx, 0)
			var still []held
			for _, h := range open {
				if h.r.ExpiresAt.After(now) {
					still = append(still, h)
				} else {
					reserved[key{h.lines[0].ProductID, h.r.LocationID}] -= h.lines[0].Qty
				}
			}
			open = still
		case 8: // restock a refund or count
			q := rng.IntN(6)
			if rng.IntN(2) == 0 {
				err = f.tx(func(tx *sqlx.Tx) error {
					return f.inv.Restock(f.ctx, tx, f.cid, l.ID, []inventory.Line{{ProductID: p.ID, Qty: q + 1}}, "refund")
				})
				if err == nil {
					onHand[k] += q + 1
				}
			} else {
				counted := max(reserved[k], onHand[k]+q-3)
				err = f.tx(func(tx *sqlx.Tx) error {
					_, err := f.inv.Count(f.ctx, tx, f.cid, inventory.CountInput{LocationID: l.ID, Lines: []inventory.CountLine{{ProductID: p.ID, Counted: counted}}})
					return err
				})
				if err == nil {
					onHand[k] = counted
				}
			}
		case 9: // write off expired lots, or one unit
			if rng.IntN(2) == 0 {
				err = f.tx(func(tx *sqlx.Tx) error {
					_, err := f.inv.WriteOffExpired(f.ctx, tx, f.cid, l.ID, nil)
					return err
				})
				after, err2 := f.inv.Levels(f.ctx, f.db, f.cid, l.ID)
				f.must(err2)
				for _, lv := range after {
					onHand[key{lv.ProductID, lv.LocationID}] = lv.OnHand
				}
			} else {
				err = f.tx(func(tx *sqlx.Tx) error {
					_, err := f.inv.WriteOff(f.ctx, tx, f.cid, inventory.WriteOffInput{LocationID: l.ID, Reason: "broken", Lines: []inventory.WriteOffLine{{ProductID: p.ID, Qty: 1}}})
					return err
				})
				if err == nil {
					onHand[k]--
				} else if onHand[k]-reserved[k] >= 1 {
					t.Fatalf("step %d: write-off refused with %d available: %v", step, onHand[k]-reserved[k], err)
				}
			}
		}
		if err != nil && !apperr.Is(err, apperr.InsufficientStock) && !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("step %d (op %d): %v", step, op, err)
		}
		f.verify()
	}
	for k, want := range onHand {
		lv := f.level(k.p, k.l)
		if lv.OnHand != want || lv.Reserved != reserved[k] {
			t.Fatalf("%s at %s: on hand %d reserved %d; model says %d and %d", lv.ProductName, lv.LocationName, lv.OnHand, lv.Reserved, want, reserved[k])
		}
		if lv.OnHand < 0 || lv.Reserved < 0 || lv.Reserved > lv.OnHand {
			t.Fatalf("impossible level %+v", lv)
		}
	}
}

func indexOf(ls []inventory.Location, l inventory.Location) int {
	for i := range ls {
		if ls[i].ID == l.ID {
			return i
		}
	}
	return -1
}
