package pos_test

// The independent model of the randomized whole-system test (system_test.go).
// It is written from the rules in DESIGN.md "Money flow of a sale" and issue
// 8, in whole cents, without calling the code under test:
//
//   - per line: amount = price × qty; the sale's discount is spread over the
//     lines by largest remainder (weights: the lines' amounts, ties to the
//     earlier line); net = amount − discount share; cost = unit cost × qty;
//     maker = net × percent / 100 rounded half away from zero (on what was
//     paid); fee = 0 (no provider fee at the stall); fund = net − cost −
//     maker − fee, never negative (else the sale is refused);
//   - the fund share of a sale is split over the community's earmarks by
//     their percents (largest remainder, ties to the earlier earmark);
//   - a refund of q more units of a line (r refunded before, n sold) gives
//     back of every part X: round(X·(r+q)/n) − round(X·r/n); a rounding that
//     would make the fund part negative is taken from the cost, then the
//     maker; restocked units give back cost and maker; units that do not
//     return leave both payable and take the loss from the line's fund share;
//     the fund gives back at most what the line's fund share still holds
//     (an earlier damaged unit may have used it up), the rest written off;
//   - the fund part of a refund is taken from the sale's earmark lots by what
//     each still holds (largest remainder, ties to the earlier posting, i.e.
//     the earlier account id).

import (
	"sort"
)

// mProduct is a product as the model knows it.
type mProduct struct {
	id     string
	name   string
	price  int64 // cents
	cost   int64
	maker  string
	pct    int64 // maker's percent (whole)
	onHand int   // committed model state
	held   int   // reserved by sales awaiting payment and baskets
	// dec is the stock that checkouts in flight may already have taken in
	// the system (registered before the call, removed when applied).
	dec int
}

// mLine is one line of a sale with its money as the model computes it.
type mLine struct {
	product  *mProduct
	qty      int
	amount   int64
	net      int64
	cost     int64
	maker    int64
	fee      int64
	fund     int64
	refunded int   // units refunded
	restock  int   // units restocked
	taken    int64 // fund taken back by earlier refunds of this line
}

// roundDiv is round(a/b) half away from zero, for a ≥ 0 and b > 0.
func roundDiv(a, b int64) int64 { return (2*a + b) / (2 * b) }

// splitLR spreads total (cents ≥ 0) over weights by largest remainder, ties
// to the earlier part.
func splitLR(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total <= 0 {
		return out
	}
	type rem struct {
		i int
		r int64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		exact := total * w
		out[i] = exact / sum
		given += out[i]
		rems[i] = rem{i, exact % sum}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// saleMoney works out the lines of a sale. It reports the field a refusal
// names ("" when the sale is possible).
func saleMoney(lines []*mLine, discount int64) (total int64, refusal string) {
	var subtotal int64
	weights := make([]int64, len(lines))
	for i, l := range lines {
		l.amount = l.product.price * int64(l.qty)
		weights[i] = l.amount
		subtotal += l.amount
	}
	if discount < 0 || discount > subtotal {
		return 0, "discount"
	}
	disc := splitLR(discount, weights)
	for i, l := range lines {
		l.net = l.amount - disc[i]
		l.cost = l.product.cost * int64(l.qty)
		if l.product.pct > 0 {
			l.maker = roundDiv(l.net*l.product.pct, 100)
		}
		l.fund = l.net - l.cost - l.maker - l.fee
		total += l.net
	}
	for _, l := range lines {
		if l.fund < 0 {
			if discount > 0 {
				return 0, "discount"
			}
			return 0, "lines"
		}
	}
	return total, ""
}

// mRefundLine is what a refund of one line gives back.
type mRefundLine struct {
	line                                     *mLine
	qty                                      int
	amount, cost, maker, fee, fund, writeOff int64
}

// refundLine works out q more units of l given back (and records them).
func refundLine(l *mLine, q int, restock bool) mRefundLine {
	r, n := int64(l.refunded), int64(l.qty)
	take := func(x int64) int64 { return roundDiv(x*(r+int64(q)), n) - roundDiv(x*r, n) }
	net, cost, maker, fee := take(l.net), take(l.cost), take(l.maker), take(l.fee)
	fund := net - cost - maker - fee
	if fund < 0 {
		cut := min(-fund, cost)
		cost, fund = cost-cut, fund+cut
		cut = min(-fund, maker)
		maker, fund = maker-cut, fund+cut
	}
	rl := mRefundLine{line: l, qty: q, amount: net, fee: fee}
	wanted := fund // what the fund gives back for these units
	if restock {
		rl.cost, rl.maker = cost, maker
	} else {
		wanted = fund + cost + maker // the goods are gone: cost and maker's share stay owed
	}
	held := max(l.fund-l.taken, 0) // an earlier damaged unit may have used the line's fund share up
	rl.fund = min(wanted, held)
	rl.writeOff = wanted - rl.fund
	l.refunded += q
	if restock {
		l.restock += q
	}
	l.taken += rl.fund
	return rl
}

// mRefund is a refund of a sale.
type mRefund struct {
	id      string
	lines   []mRefundLine
	amount  int64
	restock bool
	status  string // pending, succeeded, failed
	// seq orders the refunds of a sale (their fund parts come out of the
	// earmark lots in this order).
	seq int
}

func (r *mRefund) fund() int64 {
	var f int64
	for _, l := range r.lines {
		f += l.fund
	}
	return f
}

// mSuspense is money held for a sale.
type mSuspense struct {
	id     string
	amount int64
	reason string
	status string // open, refunding, refunded, completed
}
