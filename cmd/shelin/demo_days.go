package main

import (
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders/payment"
	"shelin/pos"
	"shelin/reconcile"
)

func init() {
	registerDemo(35, "the treasurer's days: three closed days with Z-reports, today open with a variance and an unmatched statement row", seedDays)
}

// seedDays closes the three days before today (their Z-reports chained) and
// leaves today open with work for the treasurer: the morning shift handed
// over ¥1.00 short, and the sandbox statement imported with one row Shelin
// does not know. All through pos and reconcile.
func seedDays(e *demoEnv) error {
	ctx, cid := e.ctx, e.community.ID
	tres, vol, vol2 := e.values["user.treasurer"], e.values["user.volunteer"], e.values["user.volunteer2"]
	svc := &pos.Service{DB: e.db, Inventory: inventory.New(e.db), Fund: fund.New(e.db), Identity: e.ids, BaseURL: e.cfg.BaseURL,
		Providers: payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{})}
	rec := reconcile.New(e.db, e.ids, svc)
	loc := e.community.Location()
	today := time.Now().In(loc)
	for i := 3; i >= 1; i-- {
		day := today.AddDate(0, 0, -i).Format("2006-01-02")
		if _, err := rec.Close(ctx, cid, day, tres); err != nil {
			return fmt.Errorf("close %s: %w", day, err)
		}
	}
	// The morning shift is handed over to the second volunteer ¥1.00 short.
	if shiftID := e.values["pos.shift"]; shiftID != "" {
		var drawer money.Amount
		if err := e.db.GetContext(ctx, &drawer, `SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'cash_drawer' AND key = $2`,
			cid, e.values["location.stall"]); err != nil {
			return err
		}
		if err := e.inTx(func(tx *sqlx.Tx) error {
			_, _, err := svc.Handover(ctx, tx, cid, shiftID, drawer.Sub(money.MustParse("1.00")), vol, vol2, "")
			return err
		}); err != nil {
			return fmt.Errorf("handover: %w", err)
		}
	}
	// The sandbox statement of today, with a payment Shelin never saw.
	date := today.Format("2006-01-02")
	data, err := reconcile.SandboxStatement(ctx, e.db, cid, date, loc)
	if err != nil {
		return err
	}
	p, err := reconcile.Parse("sandbox", data, loc)
	if err != nil {
		return err
	}
	rows := append(p.Rows, reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: "SBXUNKNOWN0001", TxnID: "sbx_unknown_0001",
		Amount: money.MustParse("25.00"), Fee: money.MustParse("0.15"), At: time.Now()})
	if _, err := rec.Import(ctx, reconcile.ImportInput{CommunityID: cid, Provider: "sandbox", Filename: "sandbox-" + date + ".csv",
		Data: reconcile.WriteWeChat(rows, loc), Day: date, UserID: tres}); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	fmt.Printf("demo: the treasurer's day is at /admin/%s/days/%s\n", cid, date)
	return nil
}
