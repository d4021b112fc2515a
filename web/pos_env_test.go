package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/dbtest"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/web"
)

// posEnv is a server on a database of its own, with LISTEN/NOTIFY live
// events and the durable queue running (sandbox notifications are really
// delivered to the webhook), plus a stall with two products in stock.
type posEnv struct {
	*env
	dbURL  string
	stall  string
	pastry string // 洛阳牡丹酥 ¥38.00 (cost 20.00)
	card   string // 牡丹明信片 ¥5.50 (cost 1.00)
}

// startServer runs one replica on d; replicas share the database. The
// sandbox payment provider is on, as in `make run`; change, if given,
// changes the configuration.
func startServer(t *testing.T, d *sqlx.DB, dbURL string, change ...func(*web.Config)) (string, *web.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := web.Config{BaseURL: base, SecretKey: make([]byte, 32), SandboxSecret: "test-sandbox-secret", Sandbox: true,
		DatabaseURL: dbURL, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, ch := range change {
		ch(&cfg)
	}
	srv, err := web.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	srv.Identity().MaxFailuresPerIP = 1 << 30
	app := srv.App()
	go app.Listener(ln)
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop(context.Background())
		cancel()
		srv.Close()
		app.ShutdownWithTimeout(2 * time.Second)
	})
	return base, srv
}

func newPOSEnv(t *testing.T, pastryStock int, change ...func(*web.Config)) *posEnv {
	t.Helper()
	identity.SetFastHashing()
	url := dbtest.FreshURL(t)
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	base, srv := startServer(t, d, url, change...)
	e := &env{t: t, URL: base, DB: d, Srv: srv, Users: map[identity.Role]identity.User{}, Tokens: map[identity.Role]string{}}
	e.Com, e.Users = e.newCommunity()
	for r, u := range e.Users {
		e.Tokens[r] = e.login(u.Login, testPassword)
	}
	p := &posEnv{env: e, dbURL: url}
	inv := srv.POS().Inventory
	ctx := context.Background()
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		loc, err := inv.CreateLocation(ctx, tx, e.Com.ID, "牡丹园摊位", inventory.KindStall)
		if err != nil {
			return err
		}
		p.stall = loc.ID
		if _, err := srv.POS().SetupStall(ctx, tx, e.Com.ID, loc.ID, "MD"); err != nil {
			return err
		}
		a, err := inv.CreateProduct(ctx, tx, e.Com.ID, inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥", Price: "38.00", UnitCost: "20.00"})
		if err != nil {
			return err
		}
		b, err := inv.CreateProduct(ctx, tx, e.Com.ID, inventory.ProductInput{SKU: "PC-1", Name: "牡丹明信片", Price: "5.50", UnitCost: "1.00"})
		if err != nil {
			return err
		}
		p.pastry, p.card = a.ID, b.ID
		_, err = inv.Receive(ctx, tx, e.Com.ID, inventory.ReceiptInput{LocationID: loc.ID, Lines: []inventory.ReceiptLine{
			{ProductID: a.ID, Qty: pastryStock}, {ProductID: b.ID, Qty: 100}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sale posts a sale as the volunteer with an Idempotency-Key.
func (p *posEnv) sale(key string, body any) (int, map[string]any) {
	p.t.Helper()
	return p.call("POST", p.c()+"/sales", p.Tokens[identity.Volunteer], body, "Idempotency-Key", key)
}

func mustAmount(s string) money.Amount { return money.MustParse(s) }
