package reconcile_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
	"shelin/reconcile"
)

// script is a day at the stall with every kind of sale: cash, sandbox QR,
// a 收款码 (static) sale, a cash refund, a provider refund, and money that
// arrived after its sale was cancelled (held in suspense, then refunded).
type script struct {
	shift             *pos.Shift
	qr                []*pos.Sale
	static, cancelled *pos.Sale
}

func runScript(t *testing.T, f *fx) script {
	var sc script
	pastry := func(n int) pos.SaleLine { return pos.SaleLine{ProductID: f.pastry, Qty: n} }
	card := func(n int) pos.SaleLine { return pos.SaleLine{ProductID: f.card, Qty: n} }
	sc.shift = f.openShift("100.00")
	cash := f.mustSell("cash", "", pastry(2))
	f.mustSell("cash", "", card(3))
	for i := 0; i < 4; i++ {
		lines := []pos.SaleLine{pastry(1)}
		if i > 0 {
			lines = append(lines, card(i))
		}
		s := f.mustSell("qr", "sandbox", lines...)
		f.pay(s)
		sc.qr = append(sc.qr, s)
	}
	sc.static = f.mustSell("qr", "static", card(2))
	f.tx(func(tx *sqlx.Tx) error {
		_, _, err := f.s.ConfirmStatic(f.ctx, tx, f.cid, sc.static.Order.ID, f.vol1)
		return err
	})
	// Refunds: one pastry of the cash sale, and a QR sale through the sandbox.
	if r := f.refund(cash, true, orders.RefundItem{ProductID: f.pastry, Qty: 1}); r.Status != "succeeded" {
		t.Fatalf("cash refund %+v", r)
	}
	f.refund(sc.qr[1], true, orders.RefundItem{ProductID: f.pastry, Qty: 1})
	// Paid after cancel: held, then refunded by the treasurer.
	sc.cancelled = f.mustSell("qr", "sandbox", pastry(1))
	if _, err := f.s.Cancel(f.ctx, f.cid, sc.cancelled.Order.ID, f.vol1); err != nil {
		t.Fatal(err)
	}
	// The wallet paid just as the stall cancelled: its notification arrives late.
	if _, err := f.d.ExecContext(f.ctx, `UPDATE sandbox_payments SET status = 'paid', paid_at = now(), txn_id = 'sbx_late_' || payment_id WHERE merchant_ref = $1`,
		sc.cancelled.Payment.MerchantRef); err != nil {
		t.Fatal(err)
	}
	f.deliver(payment.NotificationBody("evt_late_"+sc.cancelled.Payment.ID, payment.PaymentSucceeded, sc.cancelled.Payment.ID, sc.cancelled.Order.Total, "sbx_late_"+sc.cancelled.Payment.ID, time.Now()))
	var held []orders.Suspense
	held, err := orders.ListSuspense(f.ctx, f.d, f.cid, true, 10)
	if err != nil || len(held) != 1 {
		t.Fatalf("held %v %v", held, err)
	}
	f.tx(func(tx *sqlx.Tx) error {
		_, err := f.s.RefundHeld(f.ctx, tx, f.cid, held[0].ID, f.tres)
		return err
	})
	if err := f.s.SubmitSuspenseRefund(f.ctx, f.cid, held[0].ID); err != nil {
		t.Fatal(err)
	}
	// Drawer: 100 float + 76 + 16.50 − 38 = 154.50.
	if sh := f.closeShift(sc.shift.ID, "154.50"); !sh.Variance.IsZero() {
		t.Fatalf("variance %s", sh.Variance)
	}
	return sc
}

// staticStatement is the community's WeChat merchant bill listing the 收款码
// payment under WeChat's own order number.
func staticStatement(f *fx, sc script) []byte {
	return reconcile.WriteWeChat([]reconcile.Row{{Kind: reconcile.KindPayment, MerchantRef: "WXSTATIC20261130001", TxnID: "4200009999",
		Amount: sc.static.Order.Total, Fee: money.MustParse("0.07"), At: time.Now()}}, f.loc)
}

func issueKinds(d *reconcile.Day) []string {
	var out []string
	for _, is := range d.Issues {
		if is.Status == "open" {
			out = append(out, is.Kind)
		}
	}
	sort.Strings(out)
	return out
}

func TestScriptedDayReconcilesClean(t *testing.T) {
	f := setup(t)
	sc := runScript(t, f)
	d := f.day()
	if d.Sales.Count != 7 || d.Sales.Gross.String() != "288.50" {
		t.Fatalf("sales %d %s", d.Sales.Count, d.Sales.Gross)
	}
	// Before statements: the sandbox has no statement, the static sale is unmatched.
	if got := strings.Join(issueKinds(d), ","); got != "no_statement,static_unmatched" {
		t.Fatalf("issues before statements: %s", got)
	}
	res, err := f.r.ImportSandbox(f.ctx, f.cid, f.today(), f.tres)
	if err != nil {
		t.Fatal(err)
	}
	// 4 paid QR sales + the held payment; the QR refund and the held refund.
	if res.Rows != 7 || res.Matched != 7 || res.Unmatched != 0 {
		t.Fatalf("import %+v", res)
	}
	// Settled = 4 sales + held − 2 refunds; fees 0.6 % per row.
	wantSettled := money.MustParse("0").Add(sc.qr[0].Order.Total).Add(sc.qr[1].Order.Total).Add(sc.qr[2].Order.Total).Add(sc.qr[3].Order.Total).
		Add(sc.cancelled.Order.Total).Sub(money.MustParse("38.00")).Sub(sc.cancelled.Order.Total)
	if !res.Settled.Equal(wantSettled) || !res.ToBank.Equal(res.Settled.Sub(res.Fees)) || !res.FeeAdjust.Equal(res.Fees) {
		t.Fatalf("settlement %+v, want settled %s", res, wantSettled)
	}
	if b := f.balance("provider_clearing", "sandbox"); !b.IsZero() {
		t.Fatalf("sandbox clearing %s after settlement", b)
	}
	if b := f.balance("provider_fees", ""); !b.IsZero() {
		t.Fatalf("provider fees %s after the adjustment", b)
	}
	// The same file again is a replay with no new entries.
	again, err := f.r.ImportSandbox(f.ctx, f.cid, f.today(), f.tres)
	if err != nil || !again.Replay || again.StatementID != res.StatementID {
		t.Fatalf("replay %+v %v", again, err)
	}
	// The 收款码 sale: a WeChat bill row Shelin cannot match, ticked off.
	st, err := f.r.Import(f.ctx, reconcile.ImportInput{CommunityID: f.cid, Provider: "wechatpay", Filename: "wx.csv", Data: staticStatement(f, sc), UserID: f.tres})
	if err != nil || st.Unmatched != 1 {
		t.Fatalf("wechat import %+v %v", st, err)
	}
	if got := strings.Join(issueKinds(f.day()), ","); got != "missing_in_shelin,static_unmatched" {
		t.Fatalf("issues before the tick-off: %s", got)
	}
	if _, err := f.r.MatchStatic(f.ctx, f.cid, st.StatementID, 1, sc.static.Payment.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.MatchStatic(f.ctx, f.cid, st.StatementID, 1, sc.static.Payment.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("ticking off twice: %v", err)
	}
	if b := f.balance("provider_clearing", "static"); !b.IsZero() {
		t.Fatalf("static clearing %s", b)
	}
	d = f.day()
	if len(issueKinds(d)) != 0 || !d.CanClose {
		t.Fatalf("issues on a clean day: %+v", d.Issues)
	}
	if d.Statements.Matched != 8 || d.Statements.MissingInStatement != 0 || d.Statements.MissingInShelin != 0 || d.Statements.AmountMismatch != 0 {
		t.Fatalf("statements %+v", d.Statements)
	}
	f.verify()

	// Close: the day is locked and its Z-report chained.
	z, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres)
	if err != nil {
		t.Fatal(err)
	}
	if z.Body.Gross.String() != "288.50" || z.Body.Sales != 7 || len(z.Body.Stalls) != 1 || z.Version != 1 {
		t.Fatalf("z-report %+v", z.Body)
	}
	if _, err := f.sell("qr", "sandbox", pos.SaleLine{ProductID: f.card, Qty: 1}); !apperr.Is(reconcile.MapError(err), apperr.DayClosed) {
		t.Fatalf("a sale on a closed day: %v", err)
	}
	if _, err := f.s.Open(f.ctx, mustTx(t, f), f.cid, pos.OpenShift{LocationID: f.stall, UserID: f.vol1, OpeningFloat: money.MustParse("50")}); !apperr.Is(reconcile.MapError(err), apperr.DayClosed) {
		t.Fatalf("a shift on a closed day: %v", err)
	}
	if n, problems, err := f.r.VerifyChain(f.ctx, f.cid); err != nil || n != 1 || len(problems) != 0 {
		t.Fatalf("chain %d %v %v", n, problems, err)
	}
	if _, err := f.r.Import(f.ctx, reconcile.ImportInput{CommunityID: f.cid, Provider: "alipay", Data: reconcile.WriteAlipay(nil, f.loc, f.today()),
		Day: f.today()}); !apperr.Is(err, apperr.DayClosed) {
		t.Fatalf("a statement into a closed day: %v", err)
	}
	if err := f.r.Resolve(f.ctx, reconcile.Resolution{CommunityID: f.cid, Day: f.today(), IssueKey: "verify:x", Action: "acknowledged", Note: "late"}); !apperr.Is(err, apperr.DayClosed) {
		t.Fatalf("a resolution on a closed day: %v", err)
	}
	// Reopen needs a reason; the next close writes version 2 into the chain.
	if err := f.r.Reopen(f.ctx, f.cid, f.today(), f.tres, ""); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("reopen without a reason: %v", err)
	}
	if err := f.r.Reopen(f.ctx, f.cid, f.today(), f.tres, "a late cash count"); err != nil {
		t.Fatal(err)
	}
	late := f.openShift("10.00")
	f.mustSell("cash", "", pos.SaleLine{ProductID: f.card, Qty: 1})
	f.closeShift(late.ID, "15.50")
	z2, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres)
	if err != nil || z2.Version != 2 || z2.PrevHash != z.Hash || z2.Body.Sales != 8 {
		t.Fatalf("second close %+v %v", z2, err)
	}
	if n, problems, err := f.r.VerifyChain(f.ctx, f.cid); err != nil || n != 2 || len(problems) != 0 {
		t.Fatalf("chain %d %v %v", n, problems, err)
	}
	// Tamper with the first report behind the triggers' back: the chain shows it.
	if _, err := f.d.ExecContext(f.ctx, `ALTER TABLE reconcile_zreports DISABLE TRIGGER reconcile_zreports_no_update`); err != nil {
		t.Fatal(err)
	}
	_, err = f.d.ExecContext(f.ctx, `UPDATE reconcile_zreports SET body = replace(body, '"gross":"288.50"', '"gross":"300.00"') WHERE seq = $1`, z.Seq)
	if _, err2 := f.d.ExecContext(f.ctx, `ALTER TABLE reconcile_zreports ENABLE TRIGGER reconcile_zreports_no_update`); err2 != nil || err != nil {
		t.Fatal(err, err2)
	}
	_, problems, err := f.r.VerifyChain(f.ctx, f.cid)
	if err != nil || len(problems) != 1 || problems[0].Seq != z.Seq {
		t.Fatalf("tampered chain: %v %v", problems, err)
	}
	if _, err := f.d.ExecContext(f.ctx, `UPDATE reconcile_zreports SET body = '' WHERE seq = $1`, z.Seq); err == nil {
		t.Fatal("a Z-report was updated")
	}
}

func mustTx(t *testing.T, f *fx) *sqlx.Tx {
	tx, err := f.d.BeginTxx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

func TestScriptedDayShowsPlantedMismatches(t *testing.T) {
	f := setup(t)
	sc := runScript(t, f)
	data, err := reconcile.SandboxStatement(f.ctx, f.d, f.cid, f.today(), f.loc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reconcile.Parse("sandbox", data, f.loc)
	if err != nil {
		t.Fatal(err)
	}
	// Plant: sale 2 short by ¥1, sale 3 left out, a payment Shelin never saw.
	var rows []reconcile.Row
	for _, r := range p.Rows {
		switch r.MerchantRef {
		case sc.qr[2].Payment.MerchantRef:
			if r.Kind == reconcile.KindPayment {
				r.Amount = r.Amount.Sub(money.MustParse("1.00"))
			}
		case sc.qr[3].Payment.MerchantRef:
			continue
		}
		rows = append(rows, r)
	}
	rows = append(rows, reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: "SLUNKNOWN000001", TxnID: "42000000", Amount: money.MustParse("12.00"), Fee: money.MustParse("0.07"), At: time.Now()})
	res, err := f.r.Import(f.ctx, reconcile.ImportInput{CommunityID: f.cid, Provider: "sandbox", Data: reconcile.WriteWeChat(rows, f.loc), UserID: f.tres})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 7 || res.Matched != 5 || res.Unmatched != 2 {
		t.Fatalf("import %+v", res)
	}
	d := f.day()
	if got := strings.Join(issueKinds(d), ","); got != "amount_mismatch,missing_in_shelin,missing_in_statement,static_unmatched" {
		t.Fatalf("issues: %s\n%+v", got, d.Issues)
	}
	if d.Statements.AmountMismatch != 1 || d.Statements.MissingInShelin != 1 || d.Statements.MissingInStatement != 1 {
		t.Fatalf("statements %+v", d.Statements)
	}
	for _, is := range d.Issues {
		switch is.Kind {
		case reconcile.IssueMissingInStatement:
			if !strings.Contains(is.Ref, sc.qr[3].Payment.MerchantRef) {
				t.Errorf("missing in statement: %+v", is)
			}
		case reconcile.IssueAmountMismatch:
			if !strings.Contains(is.Detail, sc.qr[2].Order.Total.Yuan()) {
				t.Errorf("amount mismatch: %+v", is)
			}
		}
	}
	// The close is refused while issues are open.
	if _, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("close with open issues: %v", err)
	}
	// Resolve each: the short payment with an adjustment (¥1 less in the bank).
	bank := f.balance("bank", "")
	for _, is := range d.Issues {
		if is.Status != "open" {
			continue
		}
		r := reconcile.Resolution{CommunityID: f.cid, Day: f.today(), IssueKey: is.Key, Action: "acknowledged", Note: "checked with the provider", UserID: f.tres}
		if is.Kind == reconcile.IssueAmountMismatch {
			r.Action, r.Adjustment = "resolved", money.MustParse("-1.00")
		}
		if err := f.r.Resolve(f.ctx, r); err != nil {
			t.Fatalf("%s: %v", is.Key, err)
		}
	}
	if got := f.balance("bank", ""); !got.Equal(bank.Sub(money.MustParse("1.00"))) {
		t.Fatalf("bank %s, want %s − 1", got, bank)
	}
	f.verify()
	if _, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres); err != nil {
		t.Fatal(err)
	}
}

func TestOpenShiftBlocksTheClose(t *testing.T) {
	f := setup(t)
	sh := f.openShift("50.00")
	d := f.day()
	if len(d.Issues) != 1 || !d.Issues[0].Blocking || d.CanClose {
		t.Fatalf("issues %+v", d.Issues)
	}
	if err := f.r.Resolve(f.ctx, reconcile.Resolution{CommunityID: f.cid, Day: f.today(), IssueKey: d.Issues[0].Key, Action: "acknowledged", Note: "x"}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("acknowledging an open shift: %v", err)
	}
	if _, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("close with an open shift: %v", err)
	}
	// Short by ¥2: a variance to acknowledge.
	f.closeShift(sh.ID, "48.00")
	d = f.day()
	if got := strings.Join(issueKinds(d), ","); got != "shift_variance" {
		t.Fatalf("issues %s", got)
	}
	if err := f.r.Resolve(f.ctx, reconcile.Resolution{CommunityID: f.cid, Day: f.today(), IssueKey: d.Issues[0].Key, Action: "acknowledged", Note: "找零给错"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Close(f.ctx, f.cid, time.Now().AddDate(0, 0, 3).Format("2006-01-02"), f.tres); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("closing a future day: %v", err)
	}
	if _, err := f.r.Close(f.ctx, f.cid, f.today(), f.tres); err != nil {
		t.Fatal(err)
	}
}

// The scheduled download fetches the sandbox statement of the day before,
// once.
func TestScheduledDownload(t *testing.T) {
	f := setup(t)
	s := f.mustSell("qr", "sandbox", pos.SaleLine{ProductID: f.pastry, Qty: 1})
	f.pay(s)
	f.r.Now = func() time.Time { return time.Now().Add(24 * time.Hour) }
	w := &reconcile.DownloadWorker{S: f.r, Sources: map[string]reconcile.StatementSource{"sandbox": reconcile.SandboxSource{S: f.r}}}
	for i := 0; i < 2; i++ {
		if err := w.Work(f.ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.r.Now = nil
	var n int
	if err := f.d.GetContext(f.ctx, &n, `SELECT count(*) FROM reconcile_statements WHERE community_id = $1 AND provider = 'sandbox' AND day = $2`, f.cid, f.today()); err != nil || n != 1 {
		t.Fatalf("statements %d %v", n, err)
	}
	if d := f.day(); d.Statements.Matched != 1 || len(issueKinds(d)) != 0 {
		t.Fatalf("day %+v %v", d.Statements, issueKinds(d))
	}
}
