package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// cmdBench runs a benchmark scenario against DATABASE_URL in a scratch
// community of its own (left in place, named bench-…):
//
//	shelin bench groupbuy-rush [--joins 2000] [--cap 500]
//
// groupbuy-rush: a campaign capped at --cap units; --joins neighbours join
// at once, one unit each, through the same code the API uses. Exactly --cap
// may hold; then every held join is paid through the sandbox and its signed
// notification, and the community verifies.
func cmdBench(args []string) error {
	if len(args) == 0 || args[0] != "groupbuy-rush" {
		return errors.New("usage: shelin bench groupbuy-rush [--joins 2000] [--cap 500]")
	}
	var cfg config
	fs := flag.NewFlagSet("bench groupbuy-rush", flag.ContinueOnError)
	cfg.register(fs)
	joins := fs.Int("joins", 2000, "neighbours joining at once")
	capQty := fs.Int("cap", 500, "the campaign's maximum quantity")
	conns := fs.Int("conns", 20, "database connections")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	ctx := context.Background()
	d, err := openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetMaxOpenConns(*conns)
	d.SetMaxIdleConns(*conns)
	res, err := benchRush(ctx, d, cfg, *joins, *capQty)
	if err != nil {
		return err
	}
	fmt.Print(res)
	return nil
}

// rushResult is what a rush measured.
type rushResult struct {
	Joins, Cap, Held, Full int
	Rush, Pay              time.Duration
	OK                     bool
	Problems               []string
}

func (r rushResult) String() string {
	return fmt.Sprintf("groupbuy-rush: %d joins at once on a cap of %d: %d held, %d refused as full, in %v (%.0f joins/s); %d paid through the sandbox in %v; verify ok=%v %s\n",
		r.Joins, r.Cap, r.Held, r.Full, r.Rush.Round(time.Millisecond), float64(r.Joins)/r.Rush.Seconds(), r.Held, r.Pay.Round(time.Millisecond),
		r.OK, strings.Join(r.Problems, "; "))
}

func benchRush(ctx context.Context, d *sqlx.DB, cfg config, joins, capQty int) (rushResult, error) {
	ids := identity.New(d)
	k := newGBKit(d, ids, cfg.BaseURL, cfg.SandboxSecret)
	slug := "bench-" + strings.ToLower(orders.MerchantRef()[2:10])
	var camp *groupbuy.Campaign
	var cid string
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		c, err := ids.CreateCommunity(ctx, tx, identity.NewCommunity{Name: "压测社区 " + slug, Slug: slug})
		if err != nil {
			return err
		}
		cid = c.ID
		no := false
		p, err := inventory.New(d).CreateProduct(ctx, tx, c.ID, inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶", Price: "30.00", UnitCost: "25.00", TrackStock: &no})
		if err != nil {
			return err
		}
		camp, err = k.gb.Create(ctx, tx, c.ID, groupbuy.CampaignInput{Title: "抢购测试", ProductID: p.ID, Price: money.MustParse("30.00"),
			FundPerUnit: money.MustParse("5.00"), MinQty: 1, MaxQty: capQty, Deadline: time.Now().Add(time.Hour), PickupPoint: "邻里小站"})
		return err
	})
	if err != nil {
		return rushResult{}, err
	}
	r := rushResult{Joins: joins, Cap: capQty}
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		held           []*groupbuy.Joined
		full, failures atomic.Int64
		firstErr       error
	)
	start := make(chan struct{})
	for i := range joins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			j, err := k.join(ctx, d, camp.Token, groupbuy.JoinInput{Name: "邻居", Phone: fmt.Sprintf("139%08d", i), Qty: 1, Provider: payment.Sandbox})
			var ref *groupbuy.Refusal
			switch {
			case err == nil:
				mu.Lock()
				held = append(held, j)
				mu.Unlock()
			case errors.As(err, &ref) && ref.Key == "full":
				full.Add(1)
			default:
				failures.Add(1)
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	r.Rush = time.Since(t0)
	r.Held, r.Full = len(held), int(full.Load())
	if firstErr != nil {
		return r, fmt.Errorf("%d joins failed: %w", failures.Load(), firstErr)
	}
	if r.Held != capQty || r.Held+r.Full != joins {
		return r, fmt.Errorf("oversold or lost joins: %d held, %d full", r.Held, r.Full)
	}
	t1 := time.Now()
	sem := make(chan struct{}, 16)
	var payErr atomic.Pointer[error]
	for _, j := range held {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := k.pay(ctx, d, j); err != nil {
				payErr.Store(&err)
			}
		}()
	}
	wg.Wait()
	r.Pay = time.Since(t1)
	if e := payErr.Load(); e != nil {
		return r, *e
	}
	got, err := k.gb.Get(ctx, d, cid, camp.ID)
	if err != nil {
		return r, err
	}
	if got.PaidQty != capQty || got.HeldQty != capQty {
		return r, fmt.Errorf("after payment: held %d, paid %d", got.HeldQty, got.PaidQty)
	}
	rep, err := k.pos.Verify(ctx, cid)
	if err != nil {
		return r, err
	}
	r.OK, r.Problems = rep.OK, rep.Problems
	if !rep.OK {
		return r, fmt.Errorf("verify: %s", strings.Join(rep.Problems, "; "))
	}
	return r, nil
}
