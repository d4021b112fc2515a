package reconcile_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"shelin/internal/money"
	"shelin/reconcile"
)

// benchRows is 100,000 (SHELIN_BENCH_ROWS changes it for a quick look).
var benchRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("SHELIN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// benchDay writes a day of n paid sandbox sales straight into orders and
// payments (triggers off for the fixture only: the proceeds of 100,000 sales
// are not what is measured) and returns their statement in the WeChat format.
func benchDay(b *testing.B, f *fx, n int) []byte {
	b.Helper()
	conn, err := f.d.Connx(f.ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	stmts := []string{
		`SET session_replication_role = replica`,
		fmt.Sprintf(`INSERT INTO orders (id, community_id, channel, number, business_day, seq, status, subtotal, discount, total, receipt_token, paid_at)
			SELECT md5('o' || $1 || g)::uuid, $1::uuid, 'pos', 'BX-' || g, (now() AT TIME ZONE 'Asia/Shanghai')::date, 100000 + g, 'paid',
				(g %% 97 + 1)::numeric + 0.5, 0, (g %% 97 + 1)::numeric + 0.5, md5('t' || $1 || g) || md5('u' || g), now()
			FROM generate_series(1, %d) g`, n),
		fmt.Sprintf(`INSERT INTO payments (id, community_id, order_id, method, provider, status, amount, merchant_ref, succeeded_at, provider_txn_id)
			SELECT md5('p' || $1 || g)::uuid, $1::uuid, md5('o' || $1 || g)::uuid, 'qr', 'sandbox', 'succeeded', (g %% 97 + 1)::numeric + 0.5,
				'BX' || substr(md5($1::text), 1, 8) || lpad(g::text, 8, '0'), now(), 'sbx_' || g
			FROM generate_series(1, %d) g`, n),
		`SET session_replication_role = origin`,
		`ANALYZE orders`, `ANALYZE payments`,
	}
	for _, s := range stmts {
		var args []any
		if len(s) > 60 {
			args = []any{f.cid}
		}
		if _, err := conn.ExecContext(f.ctx, s, args...); err != nil {
			b.Fatalf("%s: %v", s[:40], err)
		}
	}
	var refs []struct {
		Ref    string       `db:"merchant_ref"`
		Amount money.Amount `db:"amount"`
	}
	if err := f.d.SelectContext(f.ctx, &refs, `SELECT merchant_ref, amount FROM payments WHERE community_id = $1 ORDER BY merchant_ref`, f.cid); err != nil {
		b.Fatal(err)
	}
	rows := make([]reconcile.Row, 0, len(refs))
	now := time.Now()
	for i, r := range refs {
		rows = append(rows, reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: r.Ref, TxnID: fmt.Sprintf("42%020d", i), Amount: r.Amount,
			Fee: money.FromCents((r.Amount.Cents()*60 + 5000) / 10000), At: now})
	}
	return reconcile.WriteWeChat(rows, f.loc)
}

// BenchmarkReconcile100k imports, matches and settles a 100,000-row
// statement against a day of 100,000 sales, then builds the day. Run with
// -benchtime=1x: each iteration sets up its own community.
func BenchmarkReconcile100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := setup(b)
		// The fixture's sales have no proceeds entries (see benchDay), so the
		// whole-system verify would list each; it is measured on its own.
		f.r.POS = nil
		data := benchDay(b, f, benchRows)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		t0 := time.Now()
		res, err := f.r.Import(f.ctx, reconcile.ImportInput{CommunityID: f.cid, Provider: "sandbox", Data: data, UserID: f.tres})
		if err != nil {
			b.Fatal(err)
		}
		imp := time.Since(t0)
		t1 := time.Now()
		d, err := f.r.Day(f.ctx, f.cid, f.today())
		if err != nil {
			b.Fatal(err)
		}
		day := time.Since(t1)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		if res.Matched != benchRows || d.Statements.Matched != benchRows || d.Statements.MissingInStatement != 0 || d.Sales.Count != benchRows {
			b.Fatalf("import %+v, day %+v", res, d.Statements)
		}
		b.ReportMetric(float64(len(data))/1e6, "MB-file")
		b.ReportMetric(imp.Seconds(), "s-import")
		b.ReportMetric(day.Seconds(), "s-day")
		b.ReportMetric(float64(benchRows)/imp.Seconds(), "rows/s")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6, "MB-alloc")
		b.Logf("100,000 rows (%.1f MB): import+match+settle %s, day %s, settled %s (fees %s)", float64(len(data))/1e6, imp, day, res.Settled, res.Fees)
	}
}

// BenchmarkParse100k parses a 100,000-row WeChat bill (no database).
func BenchmarkParse100k(b *testing.B) {
	rows := make([]reconcile.Row, benchRows)
	now := time.Now()
	for i := range rows {
		rows[i] = reconcile.Row{Kind: reconcile.KindPayment, MerchantRef: fmt.Sprintf("BX%016d", i), TxnID: fmt.Sprintf("42%020d", i),
			Amount: money.FromCents(int64(100 + i%9700)), Fee: money.FromCents(int64(i % 60)), At: now}
	}
	data := reconcile.WriteWeChat(rows, cst)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := reconcile.Parse("wechatpay", data, cst)
		if err != nil || len(p.Rows) != benchRows {
			b.Fatal(err)
		}
	}
}
