package fund_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
)

// randomPercents returns n positive percents with two decimals summing to 100.
func randomPercents(r *rand.Rand, n int) []decimal.Decimal {
	w := make([]decimal.Decimal, n)
	for i := range w {
		w[i] = decimal.NewFromInt(int64(r.IntN(1000) + 1))
	}
	cents := money.Split(money.MustParse("100.00"), w)
	out := make([]decimal.Decimal, 0, n)
	for _, c := range cents {
		if c.IsPositive() {
			out = append(out, c.Decimal())
		}
	}
	return out
}

func TestPropertySplitSumsExactly(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(1, seed))
	for i := 0; i < 5000; i++ {
		total := money.FromCents(r.Int64N(10_000_000))
		ps := randomPercents(r, r.IntN(6)+1)
		if err := fund.ValidateRules(rulesOf(ps)); err != nil {
			t.Fatalf("generated rules invalid: %v", err)
		}
		parts := money.Split(total, ps)
		sum := money.Zero
		for j, p := range parts {
			if p.IsNegative() {
				t.Fatalf("negative part %s", p)
			}
			// Largest remainder: each part within one cent of its exact share.
			exact := total.Decimal().Mul(ps[j]).Div(decimal.NewFromInt(100))
			if p.Decimal().Sub(exact).Abs().GreaterThanOrEqual(decimal.NewFromFloat(0.01)) {
				t.Fatalf("part %s too far from exact %s", p, exact)
			}
			sum = sum.Add(p)
		}
		if !sum.Equal(total) {
			t.Fatalf("split of %s by %v sums to %s", total, ps, sum)
		}
	}
}

func rulesOf(ps []decimal.Decimal) []fund.RuleEarmark {
	names := []string{fund.General, "养老", "托育", "助餐", "文化", "环境"}
	out := make([]fund.RuleEarmark, len(ps))
	for i, p := range ps {
		out[i] = fund.RuleEarmark{Name: names[i], Percent: p}
	}
	return out
}

// TestPropertyRandomOperationsKeepLedgerSound runs random sequences of
// postings, refunds, rule changes, approvals, contributions and
// disbursements, and after each sequence checks that debits equal credits,
// balances equal the sums of postings and lots are conserved.
func TestPropertyRandomOperationsKeepLedgerSound(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	ctx, d, l, _ := setup(t)
	for round := 0; round < 4; round++ {
		cid := newCommunity(t, d)
		var sales []string
		var projects []string
		refunded := map[string]money.Amount{}
		done := map[string]int{}
		gross := map[string]money.Amount{}
		for step := 0; step < 60; step++ {
			var err error
			switch k := r.IntN(10); {
			case k < 4: // a sale
				id := fmt.Sprintf("s%d", step)
				g := money.FromCents(r.Int64N(50000) + 1)
				cost := money.FromCents(r.Int64N(g.Cents() + 1))
				fee := money.FromCents(r.Int64N(g.Cents() - cost.Cents() + 1))
				p := sale(cid, id, g.String(), cost.String())
				p.ProviderFee = fee
				if r.IntN(3) == 0 {
					p.SourceKind = []string{fund.SourceGroupBuy, fund.SourceDonation}[r.IntN(2)]
				}
				_, err = tx(t, ctx, d, func(tx *sqlx.Tx) (fund.Posted, error) { return l.PostProceeds(ctx, tx, p) })
				if err == nil && p.SourceKind == fund.SourceSale {
					sales = append(sales, id)
					gross[id] = g
				}
			case k < 5 && len(sales) > 0: // a refund, pro rata or by explicit parts
				id := sales[r.IntN(len(sales))]
				left := gross[id].Sub(refunded[id])
				if left.IsZero() {
					continue
				}
				amt := money.FromCents(r.Int64N(left.Cents()) + 1)
				rv := fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: id, ReversalID: fmt.Sprintf("r%d", step), Gross: amt}
				if r.IntN(2) == 0 {
					// Explicit: what is left of the fund share first, the rest
					// as cost (restocked) or as a write-off (not restocked).
					sf, err := l.SaleFund(ctx, d, cid, fund.SourceSale, id)
					if err != nil {
						t.Fatalf("step %d: sale fund: %v", step, err)
					}
					f := money.Min(amt, sf.Net)
					parts := fund.ReversalParts{Fund: f}
					if r.IntN(2) == 0 {
						parts.WriteOff = amt.Sub(f)
					} else {
						parts.SupplierCost = amt.Sub(f)
					}
					rv.Parts = &parts
				}
				_, err = tx(t, ctx, d, reverse(t, l, rv))
				if apperr.Is(err, apperr.Invalid) && rv.Parts != nil && rv.Parts.SupplierCost.IsPositive() {
					err = nil // more cost than the sale's cost still holds: refused, nothing written
				} else if err == nil {
					refunded[id] = refunded[id].Add(amt)
				}
			case k < 6: // new rules
				ps := randomPercents(r, r.IntN(4)+1)
				_, err = l.SetRulesTx(ctx, cid, "", rulesOf(ps))
			case k < 7: // a project, approved when the fund can cover it
				budget := money.FromCents(r.Int64N(100000) + 100)
				share := money.FromCents(r.Int64N(budget.Cents() + 1))
				purpose := []string{"", "养老", "文化"}[r.IntN(3)]
				p := propose(t, ctx, d, l, cid, fmt.Sprintf("项目%d", step), purpose, budget.String(), share.String())
				if _, err = approve(t, ctx, d, l, cid, p.ID); apperr.Is(err, apperr.Conflict) {
					err = nil
				} else if err == nil {
					projects = append(projects, p.ID)
				}
			case k < 8 && len(projects) > 0: // residents give
				pid := projects[r.IntN(len(projects))]
				amt := money.FromCents(r.Int64N(20000) + 1)
				if _, err = contribute(t, ctx, d, l, cid, pid, amt.String()); apperr.Is(err, apperr.Conflict) {
					err = nil
				}
			case k < 9: // money reaches the bank: collected cash, provider settlement
				b := balances(t, ctx, d, l, cid)
				for _, from := range []fund.AccountRef{fund.Contributions("cash"), fund.ProviderClearing("sandbox")} {
					if have := b[from.Kind+":"+from.Key]; have.IsPositive() {
						bankIn(t, ctx, d, l, cid, from, money.FromCents(r.Int64N(have.Cents())+1).String())
					}
				}
			case len(projects) > 0: // pay something out, sometimes too much
				pid := projects[r.IntN(len(projects))]
				p, gerr := l.GetProject(ctx, d, cid, pid)
				if gerr != nil {
					t.Fatalf("step %d: %v", step, gerr)
				}
				bank := balances(t, ctx, d, l, cid)["bank:"]
				amt := money.FromCents(r.Int64N(p.Balance.Cents()+500) + 1)
				_, err = disburse(t, ctx, d, l, cid, pid, amt)
				switch {
				case amt.GreaterThan(p.Balance) || p.Status == fund.StatusCompleted:
					if !apperr.Is(err, apperr.Conflict) || fund.IsOverdraw(err) {
						t.Fatalf("disbursing %s of a project holding %s: %v", amt, p.Balance, err)
					}
					err = nil
				case amt.GreaterThan(bank):
					if !fund.IsOverdraw(err) || !apperr.Is(err, apperr.Conflict) {
						t.Fatalf("disbursing %s from a bank holding %s: %v", amt, bank, err)
					}
					err = nil
				}
			}
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			done["steps"]++
		}
		var n struct{ Sales, Reversals, Approved, Contributions, Disbursements, Deficits int }
		if err := d.QueryRow(`SELECT (SELECT count(*) FROM fund_proceeds WHERE community_id = $1), (SELECT count(*) FROM fund_reversals WHERE community_id = $1),
			(SELECT count(*) FROM fund_projects WHERE community_id = $1 AND approved_at IS NOT NULL), (SELECT count(*) FROM fund_contributions WHERE community_id = $1),
			(SELECT count(*) FROM fund_disbursements WHERE community_id = $1), (SELECT count(*) FROM fund_lots WHERE community_id = $1 AND deficit > 0)`, cid).
			Scan(&n.Sales, &n.Reversals, &n.Approved, &n.Contributions, &n.Disbursements, &n.Deficits); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d steps, %+v", round, done["steps"], n)
		mustVerify(t, ctx, l, cid)
		assertLedgerInvariants(t, d, cid)
	}
}

// assertLedgerInvariants checks the invariants with its own SQL, independent
// of Verify.
func assertLedgerInvariants(t *testing.T, d *sqlx.DB, cid string) {
	t.Helper()
	var debits, credits money.Amount
	if err := d.QueryRow(`SELECT COALESCE(sum(amount) FILTER (WHERE amount > 0), 0), COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0)
		FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE e.community_id = $1`, cid).Scan(&debits, &credits); err != nil {
		t.Fatal(err)
	}
	if !debits.Equal(credits) {
		t.Fatalf("Σ debits %s ≠ Σ credits %s", debits, credits)
	}
	if bad := count(t, d, `SELECT count(*) FROM ledger_accounts a WHERE community_id = $1 AND balance <> (SELECT COALESCE(sum(amount), 0) FROM ledger_postings WHERE account_id = a.id)`, cid); bad != 0 {
		t.Fatalf("%d accounts whose balance is not the sum of their postings", bad)
	}
	if bad := count(t, d, `SELECT count(*) FROM fund_lots l WHERE community_id = $1 AND
		(original <> remaining + reversed + (SELECT COALESCE(sum(amount), 0) FROM fund_lot_allocations WHERE lot_id = l.id) OR remaining < 0)`, cid); bad != 0 {
		t.Fatalf("%d lots not conserved (original = remaining + allocated + reversed)", bad)
	}
	if bad := count(t, d, `SELECT count(*) FROM fund_projects WHERE community_id = $1 AND disbursed > fund_committed + crowdfunded`, cid); bad != 0 {
		t.Fatalf("%d projects overdrawn", bad)
	}
	if bad := count(t, d, `SELECT count(*) FROM ledger_accounts WHERE community_id = $1 AND kind IN ('bank', 'cash_drawer') AND balance < 0`, cid); bad != 0 {
		t.Fatalf("%d real-money accounts below zero", bad)
	}
	// The deficit account holds exactly the lots' deficits and the write-offs.
	if bad := count(t, d, `SELECT count(*) WHERE
		COALESCE((SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'fund_deficit'), 0) <>
		COALESCE((SELECT sum(deficit) FROM fund_lots WHERE community_id = $1), 0) + COALESCE((SELECT sum(write_off) FROM fund_reversals WHERE community_id = $1), 0)`, cid); bad != 0 {
		t.Fatalf("the deficit account differs from the lots' deficits plus write-offs")
	}
}
