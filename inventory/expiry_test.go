package inventory_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/internal/dbtest"
	"shelin/internal/jobs"
	"shelin/inventory"
)

// Many workers racing to expire the same reservation release its stock once:
// the row state decides, not the number of attempts.
func TestExpireIsExactlyOnceByRowState(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	f.receive(f.stall.ID, inventory.ReceiptLine{ProductID: p.ID, Qty: 5})
	r, err := f.reserve(f.stall.ID, time.Minute, inventory.Line{ProductID: p.ID, Qty: 3})
	f.must(err)

	// Not yet due: nothing happens.
	var done bool
	f.must(f.tx(func(tx *sqlx.Tx) (err error) { done, err = f.inv.ExpireReservation(f.ctx, tx, f.cid, r.ID); return err }))
	if done {
		t.Fatal("a reservation was expired before its time")
	}
	f.inv.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	var expired atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			if err := f.tx(func(tx *sqlx.Tx) (err error) { ok, err = f.inv.ExpireReservation(f.ctx, tx, f.cid, r.ID); return err }); err != nil {
				t.Error(err)
			}
			if ok {
				expired.Add(1)
			}
		}()
	}
	wg.Wait()
	if expired.Load() != 1 {
		t.Fatalf("expired %d times; want once", expired.Load())
	}
	f.checkLevel(p.ID, f.stall.ID, 5, 0)
	got, err := f.inv.GetReservation(f.ctx, f.db, f.cid, r.ID)
	f.must(err)
	if got.State != inventory.ResExpired {
		t.Fatalf("state = %s, want expired", got.State)
	}
	// A payment arriving after expiry cannot commit stock that is no longer held.
	err = f.tx(func(tx *sqlx.Tx) error { return f.inv.Commit(f.ctx, tx, f.cid, r.ID, "late") })
	if err == nil {
		t.Fatal("committed an expired reservation")
	}
	f.verify()
}

// Two server replicas, each running River with the inventory workers, and one
// reservation that expires: its durable job (inserted with the reservation)
// and the periodic sweeps of both replicas all race, and the stock is
// released exactly once.
func TestExpiryJobWithTwoReplicas(t *testing.T) {
	d := dbtest.Fresh(t)
	f := newFixtureOn(t, d)
	p := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	f.receive(f.stall.ID, inventory.ReceiptLine{ProductID: p.ID, Qty: 5})
	r, err := f.reserve(f.stall.ID, 1500*time.Millisecond, inventory.Line{ProductID: p.ID, Qty: 2})
	f.must(err)
	keep, err := f.reserve(f.stall.ID, time.Hour, inventory.Line{ProductID: p.ID, Qty: 1})
	f.must(err)
	// A second expiry job for the same reservation, as a retry or another
	// replica might enqueue.
	f.must(f.tx(func(tx *sqlx.Tx) error {
		_, err := jobs.Insert(f.ctx, tx, inventory.ExpireReservationArgs{CommunityID: f.cid, ReservationID: r.ID}, &jobs.InsertOpts{ScheduledAt: r.ExpiresAt})
		return err
	}))
	f.checkLevel(p.ID, f.stall.ID, 5, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		w := river.NewWorkers()
		replica := inventory.New(d)
		replica.RegisterWorkers(w)
		c, err := jobs.New(d.DB, jobs.Config{Workers: w, Periodic: replica.PeriodicJobs(), FetchPollInterval: 50 * time.Millisecond,
			ID: fmt.Sprintf("replica-%d", i)})
		f.must(err)
		f.must(c.Start(ctx))
		t.Cleanup(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			c.Stop(sctx)
		})
	}
	for {
		got, err := f.inv.GetReservation(f.ctx, d, f.cid, r.ID)
		f.must(err)
		if got.State == inventory.ResExpired {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("reservation still %s after 30 s", got.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let both expiry jobs finish; neither may fail or release twice.
	for {
		var pending, failed int
		f.must(d.Get(&pending, `SELECT count(*) FROM river_job WHERE kind = $1 AND state NOT IN ('completed','discarded','cancelled')
			AND scheduled_at <= now()`, inventory.ExpireReservationArgs{}.Kind()))
		f.must(d.Get(&failed, `SELECT count(*) FROM river_job WHERE kind = $1 AND errors IS NOT NULL`, inventory.ExpireReservationArgs{}.Kind()))
		if failed > 0 {
			t.Fatalf("%d expiry jobs failed", failed)
		}
		if pending == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d expiry jobs still pending", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.checkLevel(p.ID, f.stall.ID, 5, 1)
	got, err := f.inv.GetReservation(f.ctx, d, f.cid, keep.ID)
	f.must(err)
	if got.State != inventory.ResHeld {
		t.Fatalf("a reservation not yet due was %s", got.State)
	}
	f.verify()
}
