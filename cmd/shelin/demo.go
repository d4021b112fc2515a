package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"

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
// fund 20, pos 30, groupbuy 40).
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
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
		return demoLogins, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	identity.SetFastHashing()
	env := &demoEnv{ctx: ctx, db: d, cfg: cfg, ids: ids, users: map[identity.Role]identity.User{}, values: map[string]string{}}
	sort.SliceStable(demoSteps, func(i, j int) bool { return demoSteps[i].order < demoSteps[j].order })
	for _, st := range demoSteps {
		if err := st.run(env); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		fmt.Printf("demo: %s loaded\n", st.name)
	}
	return demoLogins, nil
}

// inTx runs one demo write in a transaction.
func (e *demoEnv) inTx(fn func(tx *sqlx.Tx) error) error { return db.InTx(e.ctx, e.db, fn) }
