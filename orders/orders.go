// Package orders keeps what was sold: orders with their lines at the prices
// as sold, the one payment of each order, the order/payment state machine and
// refunds by line. It does not move stock or money in the ledger; the use
// cases in pos and groupbuy compose it with inventory and fund in one
// transaction.
//
//	awaiting_payment ──paid──▶ paid ──refunds (partial, full)──▶ paid, refunded_total grows
//	        │
//	        ├──expired (at expires_at, stock released)
//	        └──cancelled (by a volunteer, before payment)
//
// Money that arrives for an order that can no longer take it (expired,
// cancelled, wrong amount) holds the payment (status held) with a suspense
// item; the treasurer refunds it or completes the sale (expired/cancelled ──▶
// paid).
//
// Every line keeps its money as sold: net_amount (after its share of the
// discount) = cost_amount + maker_share + fee_amount + fund_amount.
package orders

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders/payment"
)

// Order statuses.
const (
	AwaitingPayment = "awaiting_payment"
	Paid            = "paid"
	Expired         = "expired"
	Cancelled       = "cancelled"
)

// Order is a sale (or a group-buy join) with its lines.
type Order struct {
	ID            string       `db:"id" json:"id"`
	CommunityID   string       `db:"community_id" json:"community_id"`
	Channel       string       `db:"channel" json:"channel"`
	Number        string       `db:"number" json:"number"`
	BusinessDay   time.Time    `db:"business_day" json:"-"`
	Seq           int          `db:"seq" json:"-"`
	Status        string       `db:"status" json:"status"`
	Subtotal      money.Amount `db:"subtotal" json:"subtotal"`
	Discount      money.Amount `db:"discount" json:"discount"`
	Total         money.Amount `db:"total" json:"total"`
	RefundedTotal money.Amount `db:"refunded_total" json:"refunded_total"`
	ReceiptToken  string       `db:"receipt_token" json:"-"`
	CreatedBy     *string      `db:"created_by" json:"created_by,omitempty"`
	CreatedAt     time.Time    `db:"created_at" json:"created_at"`
	ExpiresAt     *time.Time   `db:"expires_at" json:"expires_at,omitempty"`
	PaidAt        *time.Time   `db:"paid_at" json:"paid_at,omitempty"`
	ClosedAt      *time.Time   `db:"closed_at" json:"closed_at,omitempty"`
	Lines         []Line       `db:"-" json:"lines"`
}

// Net is what the customer has paid and kept: total less refunds.
func (o *Order) Net() money.Amount { return o.Total.Sub(o.RefundedTotal) }

// Day is the business day as YYYY-MM-DD.
func (o *Order) Day() string { return o.BusinessDay.Format("2006-01-02") }

// Line is one product of an order at the price and cost as sold.
type Line struct {
	ID        string       `db:"id" json:"id"`
	LineNo    int          `db:"line_no" json:"-"`
	ProductID string       `db:"product_id" json:"product_id"`
	Name      string       `db:"name" json:"name"`
	Qty       int          `db:"qty" json:"qty"`
	UnitPrice money.Amount `db:"unit_price" json:"unit_price"`
	UnitCost  money.Amount `db:"unit_cost" json:"-"`
	Amount    money.Amount `db:"amount" json:"amount"` // unit price × qty, before the discount
	// NetAmount is what the line brought in: Amount less its share of the
	// sale's discount (largest remainder over the lines' amounts).
	NetAmount  money.Amount `db:"net_amount" json:"net_amount"`
	CostAmount money.Amount `db:"cost_amount" json:"-"` // unit cost × qty, owed to the supplier
	MakerName  string       `db:"maker_name" json:"-"`
	// MakerShare is the consigned maker's part of NetAmount (of what was
	// actually paid, not of the list price).
	MakerShare  money.Amount `db:"maker_share" json:"-"`
	FeeAmount   money.Amount `db:"fee_amount" json:"-"`  // the line's part of the provider fee
	FundAmount  money.Amount `db:"fund_amount" json:"-"` // what the line puts into the fund
	RefundedQty int          `db:"refunded_qty" json:"refunded_qty"`
}

// NewLine is a line to sell; the caller takes name, price and cost from the
// catalogue at the moment of sale.
type NewLine struct {
	ProductID string
	Name      string
	Qty       int
	UnitPrice money.Amount
	UnitCost  money.Amount
	// MakerName and MakerPercent for consigned goods: the maker's share is
	// MakerPercent of what the line actually brings in after the discount.
	MakerName    string
	MakerPercent decimal.Decimal
}

// New describes an order to create.
type New struct {
	CommunityID string
	Channel     string // "pos" or "groupbuy"
	Prefix      string // stall prefix of the number, e.g. "MD"
	Lines       []NewLine
	CreatedBy   string
	ExpiresAt   *time.Time
	// Discount off the whole order (zero for none); at most the subtotal.
	Discount money.Amount
	// Fee is the provider's (estimated) fee on the whole order, spread over
	// the lines like the discount.
	Fee money.Amount
	// Seq, when set, numbers the order "<prefix>-<Seq>" without the
	// community's daily counter: group-buy joins draw it from a sequence of
	// their own (from 1,000,000 up, a range the daily counter never
	// reaches), so that a rush of joins does not queue on the counter row.
	Seq int
}

// OwnSeqFloor is the least Seq a caller may give New.
const OwnSeqFloor = 1000000

var prefixRe = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,5}$`)

// ValidPrefix reports whether p can start an order number (1–6 capitals/digits).
func ValidPrefix(p string) bool { return prefixRe.MatchString(p) }

// Token returns an unguessable public token (128 bits).
func Token() string { return payment.Token() }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const lineCols = `id, line_no, product_id, name, qty, unit_price, unit_cost, amount, net_amount, cost_amount, maker_name, maker_share,
	fee_amount, fund_amount, refunded_qty`

const orderCols = `id, community_id, channel, number, business_day, seq, status, subtotal, discount, total, refunded_total, receipt_token,
	created_by, created_at, expires_at, paid_at, closed_at`

// Create writes an awaiting_payment order with its lines and a number
// "<prefix>-<MMDD>-<seq>" from the community's counter for its business day.
func Create(ctx context.Context, tx *sqlx.Tx, in New) (*Order, error) {
	if in.Channel == "" {
		in.Channel = "pos"
	}
	if !ValidPrefix(in.Prefix) {
		return nil, apperr.Field("prefix", "the number prefix must be 1–6 capital letters or digits, starting with a letter")
	}
	if len(in.Lines) == 0 {
		return nil, apperr.Field("lines", "an order needs at least one line")
	}
	seen := map[string]bool{}
	total := money.Zero
	for i, l := range in.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if l.ProductID == "" {
			return nil, apperr.Field(f+".product_id", "product_id is required")
		}
		if seen[l.ProductID] {
			return nil, apperr.Field(f+".product_id", "each product may appear once; add up the quantities")
		}
		seen[l.ProductID] = true
		if l.Qty <= 0 || l.Qty > 10000 {
			return nil, apperr.Field(f+".qty", "qty must be a positive whole number")
		}
		if l.UnitPrice.IsNegative() || l.UnitCost.IsNegative() || l.MakerPercent.IsNegative() || l.MakerPercent.GreaterThan(decimal.NewFromInt(100)) {
			return nil, apperr.Field(f+".price", "prices must not be negative")
		}
		total = total.Add(l.UnitPrice.Mul(int64(l.Qty)))
	}
	subtotal := total
	if in.Discount.IsNegative() || in.Discount.GreaterThan(subtotal) {
		return nil, apperr.Field("discount", "the discount must be between ¥0.00 and the subtotal %s", subtotal.Yuan())
	}
	total = subtotal.Sub(in.Discount)
	if in.Fee.IsNegative() || in.Fee.GreaterThan(total) {
		return nil, apperr.Field("fee", "the fee must be between ¥0.00 and the total")
	}
	money_, err := lineMoney(in.Lines, in.Discount, in.Fee)
	if err != nil {
		return nil, err
	}
	var day struct {
		Day time.Time `db:"day"`
	}
	if err := tx.GetContext(ctx, &day, `SELECT (now() AT TIME ZONE timezone)::date AS day FROM communities WHERE id=$1`, in.CommunityID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFoundf("community not found")
		}
		return nil, err
	}
	var seq int
	var number string
	if in.Seq != 0 {
		if in.Seq < OwnSeqFloor {
			return nil, fmt.Errorf("orders: an own sequence number must be at least %d", OwnSeqFloor)
		}
		seq, number = in.Seq, fmt.Sprintf("%s-%d", in.Prefix, in.Seq)
	} else {
		if err := tx.GetContext(ctx, &seq, `INSERT INTO order_number_counters (community_id, day, last) VALUES ($1,$2,1)
			ON CONFLICT (community_id, day) DO UPDATE SET last = order_number_counters.last + 1 RETURNING last`,
			in.CommunityID, day.Day); err != nil {
			return nil, err
		}
		number = fmt.Sprintf("%s-%s-%04d", in.Prefix, day.Day.Format("0102"), seq)
	}
	var o Order
	if err := tx.GetContext(ctx, &o, `INSERT INTO orders (community_id, channel, number, business_day, seq, status, subtotal, discount, total, receipt_token, created_by, expires_at)
		VALUES ($1,$2,$3,$4,$5,'awaiting_payment',$6,$7,$8,$9,$10,$11) RETURNING `+orderCols,
		in.CommunityID, in.Channel, number, day.Day, seq, subtotal, in.Discount, total, Token(), nullable(in.CreatedBy), in.ExpiresAt); err != nil {
		return nil, err
	}
	for i, l := range in.Lines {
		m := money_[i]
		var ln Line
		if err := tx.GetContext(ctx, &ln, `INSERT INTO order_lines (order_id, line_no, product_id, name, qty, unit_price, unit_cost, amount,
				net_amount, cost_amount, maker_name, maker_share, fee_amount, fund_amount)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING `+lineCols,
			o.ID, i+1, l.ProductID, l.Name, l.Qty, l.UnitPrice, l.UnitCost, m.amount,
			m.net, m.cost, l.MakerName, m.maker, m.fee, m.fund); err != nil {
			return nil, err
		}
		o.Lines = append(o.Lines, ln)
	}
	return &o, nil
}

type lineParts struct{ amount, net, cost, maker, fee, fund money.Amount }

// lineMoney spreads the discount and the fee over the lines (largest
// remainder, weighted by each line's amount) and works out each line's parts:
// net = cost + maker + fee + fund. A line whose fund share would be negative
// (sold below its cost, maker's share and fee) is refused: the charity never
// pays to sell.
func lineMoney(lines []NewLine, discount, fee money.Amount) ([]lineParts, error) {
	out := make([]lineParts, len(lines))
	weights := make([]decimal.Decimal, len(lines))
	anyWeight := false
	for i, l := range lines {
		out[i].amount = l.UnitPrice.Mul(int64(l.Qty))
		weights[i] = out[i].amount.Decimal()
		anyWeight = anyWeight || out[i].amount.IsPositive()
	}
	discounts := make([]money.Amount, len(lines))
	if discount.IsPositive() && anyWeight {
		discounts = money.Split(discount, weights)
	}
	netWeights := make([]decimal.Decimal, len(lines))
	anyNet := false
	for i, l := range lines {
		out[i].net = out[i].amount.Sub(discounts[i])
		out[i].cost = l.UnitCost.Mul(int64(l.Qty))
		if l.MakerName != "" && l.MakerPercent.IsPositive() {
			out[i].maker = money.FromDecimal(out[i].net.Decimal().Mul(l.MakerPercent).Div(decimal.NewFromInt(100)))
		}
		netWeights[i] = out[i].net.Decimal()
		anyNet = anyNet || out[i].net.IsPositive()
	}
	fees := make([]money.Amount, len(lines))
	if fee.IsPositive() && anyNet {
		fees = money.Split(fee, netWeights)
	}
	for i, l := range lines {
		out[i].fee = fees[i]
		out[i].fund = out[i].net.Sub(out[i].cost).Sub(out[i].maker).Sub(out[i].fee)
		if out[i].fund.IsNegative() {
			field := fmt.Sprintf("lines[%d]", i)
			if discount.IsPositive() {
				field = "discount"
			}
			return nil, apperr.Field(field, "%s would bring in %s, less than what it owes (cost, maker's share and fee: %s)",
				l.Name, out[i].net.Yuan(), money.Sum(out[i].cost, out[i].maker, out[i].fee).Yuan())
		}
	}
	return out, nil
}

func loadLines(ctx context.Context, q sqlx.QueryerContext, o *Order) error {
	return sqlx.SelectContext(ctx, q, &o.Lines, `SELECT `+lineCols+` FROM order_lines WHERE order_id=$1 ORDER BY line_no`, o.ID)
}

func getOrder(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Order, error) {
	var o Order
	err := sqlx.GetContext(ctx, q, &o, `SELECT `+orderCols+` FROM orders WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("sale not found")
	}
	if err != nil {
		return nil, err
	}
	if err := loadLines(ctx, q, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidID reports whether id looks like one of our ids.
func ValidID(id string) bool { return uuidRe.MatchString(id) }

// Get returns an order of the community with its lines.
func Get(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Order, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("sale not found")
	}
	return getOrder(ctx, q, `community_id=$1 AND id=$2`, communityID, id)
}

// Lock returns an order of the community with its row locked for update.
func Lock(ctx context.Context, tx *sqlx.Tx, communityID, id string) (*Order, error) {
	if !ValidID(id) {
		return nil, apperr.NotFoundf("sale not found")
	}
	return getOrder(ctx, tx, `community_id=$1 AND id=$2 FOR UPDATE`, communityID, id)
}

// ByReceiptToken returns the order behind a public receipt token.
func ByReceiptToken(ctx context.Context, q sqlx.QueryerContext, token string) (*Order, error) {
	if len(token) < 22 || len(token) > 64 {
		return nil, apperr.NotFoundf("receipt not found")
	}
	return getOrder(ctx, q, `receipt_token=$1`, token)
}

// MarkPaid moves an awaiting order to paid. It reports false (and changes
// nothing) when the order is already paid; an expired or cancelled order is
// a conflict.
func MarkPaid(ctx context.Context, tx *sqlx.Tx, orderID string, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE orders SET status='paid', paid_at=$2 WHERE id=$1 AND status='awaiting_payment'`, orderID, at)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var status string
	if err := tx.GetContext(ctx, &status, `SELECT status FROM orders WHERE id=$1`, orderID); err != nil {
		return false, err
	}
	if status == Paid {
		return false, nil
	}
	return false, apperr.Conflictf("the sale is %s and can no longer be paid", status)
}

// Close ends an awaiting order as expired or cancelled, with its payment.
// It reports false when the order was no longer awaiting payment.
func Close(ctx context.Context, tx *sqlx.Tx, orderID, status string) (bool, error) {
	if status != Expired && status != Cancelled {
		return false, fmt.Errorf("orders: cannot close as %q", status)
	}
	res, err := tx.ExecContext(ctx, `UPDATE orders SET status=$2, closed_at=now() WHERE id=$1 AND status='awaiting_payment'`, orderID, status)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE payments SET status=$2 WHERE order_id=$1 AND status='pending'`, orderID, status)
	return true, err
}

// Recent lists a community's latest orders (newest first), optionally only
// those whose ids are in ids.
func Recent(ctx context.Context, q sqlx.QueryerContext, communityID string, limit int) ([]Order, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []Order
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+orderCols+` FROM orders WHERE community_id=$1 ORDER BY created_at DESC, seq DESC LIMIT $2`, communityID, limit); err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireDue lists awaiting orders whose time is up (a sweep that backs up
// the scheduled expiry jobs).
func ExpireDue(ctx context.Context, q sqlx.QueryerContext, now time.Time, limit int) ([]struct {
	CommunityID string `db:"community_id"`
	ID          string `db:"id"`
}, error) {
	var out []struct {
		CommunityID string `db:"community_id"`
		ID          string `db:"id"`
	}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT community_id, id FROM orders WHERE status='awaiting_payment' AND channel = 'pos' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, now, limit)
	return out, err
}

// Ref names an order of a community.
type Ref struct {
	CommunityID string `db:"community_id"`
	ID          string `db:"id"`
}

// AwaitingQR lists stall orders (channel pos: a group-buy join polls and
// settles through groupbuy) awaiting a QR payment (other than the static
// 收款码, which nobody can query) created before a time, oldest first.
func AwaitingQR(ctx context.Context, q sqlx.QueryerContext, before time.Time, limit int) ([]Ref, error) {
	var out []Ref
	err := sqlx.SelectContext(ctx, q, &out, `SELECT o.community_id, o.id FROM orders o JOIN payments p ON p.order_id = o.id
		WHERE o.status = 'awaiting_payment' AND o.channel = 'pos' AND p.method = 'qr' AND p.provider <> 'static' AND o.created_at < $1
		ORDER BY o.created_at LIMIT $2`, before, limit)
	return out, err
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
