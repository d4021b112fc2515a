package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

func init() { registerDemo(30, "the Peony Park stall: tablet, shift and a morning of sales", seedPOS) }

// seedPOS pairs a tablet with the Peony Park stall, opens a shift and makes
// a morning of sales (cash, sandbox QR paid through a signed notification,
// one refund approved by a second volunteer), all through pos.Service.
func seedPOS(e *demoEnv) error {
	cid, stall := e.community.ID, e.values["location.stall"]
	admin, vol, vol2 := e.values["user.admin"], e.values["user.volunteer"], e.values["user.volunteer2"]
	secret := e.cfg.SandboxSecret
	if secret == "" {
		secret = "demo-seed-secret"
	}
	var captured [][]byte
	sandbox := &payment.SandboxProvider{BaseURL: e.cfg.BaseURL, Secret: []byte(secret), DB: e.db,
		Enqueue: func(_ context.Context, _ *sqlx.Tx, body []byte) error { captured = append(captured, body); return nil }}
	svc := &pos.Service{DB: e.db, Inventory: inventory.New(e.db), Fund: fund.New(e.db), Identity: e.ids, BaseURL: e.cfg.BaseURL,
		Providers: payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, sandbox)}
	ctx := e.ctx

	var code string
	var shift *pos.Shift
	if err := e.inTx(func(tx *sqlx.Tx) error {
		if _, err := svc.SetupStall(ctx, tx, cid, stall, "MD"); err != nil {
			return err
		}
		if _, c, err := svc.CreateDevice(ctx, tx, cid, stall, "牡丹园 平板 1", admin); err != nil {
			return err
		} else if _, _, err := svc.Pair(ctx, tx, c); err != nil {
			return err
		}
		// A second tablet waits to be paired (the code is printed below).
		var err error
		if _, code, err = svc.CreateDevice(ctx, tx, cid, stall, "牡丹园 平板 2", admin); err != nil {
			return err
		}
		shift, err = svc.Open(ctx, tx, cid, pos.OpenShift{LocationID: stall, UserID: vol, OpeningFloat: money.MustParse("200.00")})
		return err
	}); err != nil {
		return err
	}

	line := func(sku string, qty int) pos.SaleLine {
		return pos.SaleLine{ProductID: e.values["product."+sku], Qty: qty}
	}
	sell := func(method, provider string, tendered string, lines ...pos.SaleLine) (*pos.Sale, error) {
		var sale *pos.Sale
		err := e.inTx(func(tx *sqlx.Tx) error {
			in := pos.CheckoutInput{LocationID: stall, UserID: vol, Lines: lines, Method: method, Provider: provider}
			if tendered != "" {
				t := money.MustParse(tendered)
				in.Tendered = &t
			}
			var err error
			sale, err = svc.Checkout(ctx, tx, cid, in)
			return err
		})
		return sale, err
	}
	cashSales := []struct {
		tendered string
		lines    []pos.SaleLine
	}{
		{"100", []pos.SaleLine{line("MDS-12", 1)}},
		{"100", []pos.SaleLine{line("PAPERCUT", 2), line("BOOKMARK", 2)}},
		{"", []pos.SaleLine{line("PAPERCUT", 1)}},
		{"50", []pos.SaleLine{line("BOOKMARK", 1), line("PAPERCUT", 1)}},
	}
	var refundable *pos.Sale
	for i, cs := range cashSales {
		s, err := sell("cash", "", cs.tendered, cs.lines...)
		if err != nil {
			return fmt.Errorf("cash sale %d: %w", i+1, err)
		}
		if i == 1 {
			refundable = s
		}
	}
	// Two tourists pay by scanning: the sandbox wallet is paid and its
	// signed notification goes through the webhook handling code.
	for i, lines := range [][]pos.SaleLine{{line("MDS-12", 1), line("BOOKMARK", 1)}, {line("TEA", 1)}} {
		s, err := sell("qr", payment.Sandbox, "", lines...)
		if err != nil {
			return fmt.Errorf("qr sale %d: %w", i+1, err)
		}
		token := (*s.Payment.QRPayload)[len(sandbox.BaseURL)+len("/pay/"):]
		if _, err := sandbox.Pay(ctx, e.db, token); err != nil {
			return err
		}
		body := captured[len(captured)-1]
		h := http.Header{}
		h.Set(payment.SignatureHeader, payment.Sign(sandbox.Secret, time.Now(), body))
		if st, _, _, err := svc.HandleNotification(ctx, payment.Sandbox, h, body); err != nil || st != http.StatusOK {
			return fmt.Errorf("qr sale %d notification: %d %v", i+1, st, err)
		}
	}
	// A bookmark came back bent: refunded in cash, approved by a second volunteer.
	if err := e.inTx(func(tx *sqlx.Tx) error {
		_, err := svc.Refund(ctx, tx, cid, refundable.Order.ID, pos.RefundInput{
			Items:  []orders.RefundItem{{ProductID: e.values["product.BOOKMARK"], Qty: 1}},
			Reason: "书签折角", Restock: false, UserID: vol, ApproverID: vol2})
		return err
	}); err != nil {
		return err
	}
	e.values["pos.shift"] = shift.ID
	fmt.Printf("demo: open /pos on a tablet and pair it with code %s (valid 15 minutes; admins make new codes with POST /api/v1/communities/%s/devices)\n", code, cid)
	return nil
}
