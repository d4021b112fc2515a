package fund_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
)

// BenchmarkPostProceedsHot posts sales in parallel into one community, so
// that every posting updates the same hot accounts (the earmarks, supplier
// payable, fees and one drawer). Compare its postings/s with the machine's
// `pgbench -N` TPS.
func BenchmarkPostProceedsHot(b *testing.B) {
	ctx, d, l, cid := setup(b)
	if _, err := l.SetRulesTx(ctx, cid, "", []fund.RuleEarmark{{Name: "养老", Percent: decimal.NewFromInt(30)}, {Name: "文化", Percent: decimal.NewFromInt(20)}, {Name: fund.General, Percent: decimal.NewFromInt(50)}}); err != nil {
		b.Fatal(err)
	}
	drawer := fund.CashDrawer("00000000-0000-0000-0000-000000000001")
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := sale(cid, fmt.Sprintf("b%d", n.Add(1)), "38.00", "20.00")
			p.DebitAccount = drawer
			p.ProviderFee = m("0.23")
			if _, err := tx(b, ctx, d, func(tx *sqlx.Tx) (fund.Posted, error) { return l.PostProceeds(ctx, tx, p) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "postings/s")
	mustVerify(b, ctx, l, cid)
}
