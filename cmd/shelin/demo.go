package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

const (
	demoSlug     = "wuhanlu"
	demoPassword = "shelin-demo"
)

// demoEnv is what the demo steps share. Every step writes through the same
// domain code the API uses; none writes raw SQL.
type demoEnv struct {
	ctx        context.Context
	db         *sqlx.DB
	cfg        config
	ids        *identity.Service
	community  identity.Community
	users      map[identity.Role]identity.User // one user per role
	leaders    []identity.User                 // the 邻长 of the micro-grids
	microGrids []identity.MicroGrid
	// values passes ids between steps, e.g. "location.stall", "product.MDS-6".
	values map[string]string
}

type demoStep struct {
	order int
	name  string
	run   func(*demoEnv) error
}

var demoSteps []demoStep

// registerDemo adds a step; steps run in order (identity 0, inventory 10,
// fund 20, pos 30, groupbuy 32, days 35).
func registerDemo(order int, name string, run func(*demoEnv) error) {
	demoSteps = append(demoSteps, demoStep{order, name, run})
}

// demoLogins lists the demo users as (login, role) pairs.
var demoLogins = [][2]string{
	{"admin", "community admin"}, {"treasurer", "fund treasurer"}, {"volunteer", "stall volunteer (PIN 1234)"},
	{"volunteer2", "second volunteer (PIN 5678)"}, {"leader", "邻长 (neighbourhood head)"},
}

func cmdSeedDemo(args []string) error {
	var cfg config
	fs := flag.NewFlagSet("seed-demo", flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	_, err := seedDemo(context.Background(), cfg)
	return err
}

// seedDemo loads the Wuhan Road demo once; a second call changes nothing.
func seedDemo(ctx context.Context, cfg config) ([][2]string, error) {
	d, err := openDB(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ids := identity.New(d)
	if _, err := ids.CommunityBySlug(ctx, demoSlug); err == nil {
		fmt.Printf("demo: data already loaded (community %s); to start afresh, drop the database and run again\n", demoSlug)
		return demoLogins, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	identity.SetFastHashing()
	env := &demoEnv{ctx: ctx, db: d, cfg: cfg, ids: ids, users: map[identity.Role]identity.User{}, values: map[string]string{}}
	sort.SliceStable(demoSteps, func(i, j int) bool { return demoSteps[i].order < demoSteps[j].order })
	fmt.Printf("demo: loading the Wuhan Road demo data (%d steps; the first run only)\n", len(demoSteps))
	began := time.Now()
	for i, st := range demoSteps {
		p := startProgress(os.Stdout, i, len(demoSteps), st.name)
		err := st.run(env)
		p.stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		fmt.Printf("demo: [%s] %d/%d %s loaded (%s)\n", bar(i+1, len(demoSteps)), i+1, len(demoSteps), st.name, time.Since(p.began).Round(100*time.Millisecond))
	}
	fmt.Printf("demo: all loaded in %s\n", time.Since(began).Round(100*time.Millisecond))
	return demoLogins, nil
}

// progress prints, while a demo step runs, a line every few seconds (or, on
// a terminal, one line redrawn every second) so a long first start is
// never silent.
type progress struct {
	began time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w *os.File, i, n int, name string) *progress {
	p := &progress{began: time.Now(), done: make(chan struct{})}
	tty := false
	if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	every := 5 * time.Second
	if tty {
		every = time.Second
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		drew := false
		for {
			select {
			case <-p.done:
				if drew {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				line := fmt.Sprintf("demo: [%s] %d/%d loading %s… %ds", bar(i, n), i+1, n, name, int(time.Since(p.began).Seconds()))
				if tty {
					fmt.Fprint(w, "\r\033[K"+line)
					drew = true
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}

// bar draws done of n as a 20-character bar.
func bar(done, n int) string {
	const width = 20
	k := width * done / max(n, 1)
	return strings.Repeat("#", k) + strings.Repeat(".", width-k)
}

// inTx runs one demo write in a transaction.
func (e *demoEnv) inTx(fn func(tx *sqlx.Tx) error) error { return db.InTx(e.ctx, e.db, fn) }
