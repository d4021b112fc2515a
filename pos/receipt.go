package pos

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/width"

	"shelin/fund"
	"shelin/internal/money"
	"shelin/orders"
)

// ReceiptLine is one line of a receipt.
type ReceiptLine struct {
	Name        string       `json:"name"`
	Qty         int          `json:"qty"`
	UnitPrice   money.Amount `json:"unit_price"`
	Amount      money.Amount `json:"amount"`
	RefundedQty int          `json:"refunded_qty"`
}

// ReceiptFund is the sale's share of the fund, after refunds.
type ReceiptFund struct {
	Amount   money.Amount       `json:"amount"`
	Earmarks []fund.EarmarkPart `json:"earmarks"`
}

// ReceiptRefund is a refund shown on the receipt.
type ReceiptRefund struct {
	Amount money.Amount `json:"amount"`
	Reason string       `json:"reason"`
	At     time.Time    `json:"at"`
}

// Receipt is the public view of a sale (API.md GET /api/v1/receipts/{token}).
type Receipt struct {
	Number        string          `json:"number"`
	Stall         string          `json:"stall"`
	Lines         []ReceiptLine   `json:"lines"`
	Total         money.Amount    `json:"total"`
	Discount      money.Amount    `json:"discount"`
	PaidAt        *time.Time      `json:"paid_at"`
	Method        string          `json:"method"`
	Provider      string          `json:"provider"`
	Fund          ReceiptFund     `json:"fund"`
	TraceURL      string          `json:"trace_url"`
	Status        string          `json:"status"`
	Community     string          `json:"community"`
	CommunitySlug string          `json:"community_slug"`
	Tendered      *money.Amount   `json:"tendered,omitempty"`
	Change        *money.Amount   `json:"change,omitempty"`
	RefundedTotal money.Amount    `json:"refunded_total"`
	Refunds       []ReceiptRefund `json:"refunds"`
	CreatedAt     time.Time       `json:"created_at"`
	URL           string          `json:"url"`
	Token         string          `json:"-"`
	OrderID       string          `json:"-"`
	CommunityID   string          `json:"-"`
	Zone          *time.Location  `json:"-"`
}

// ReceiptURL is the public receipt page of a token.
func (s *Service) ReceiptURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/r/" + token
}

// ReceiptByToken returns the receipt behind a public token.
func (s *Service) ReceiptByToken(ctx context.Context, q sqlx.QueryerContext, token string) (*Receipt, error) {
	o, err := orders.ByReceiptToken(ctx, q, token)
	if err != nil {
		return nil, err
	}
	return s.receipt(ctx, q, o)
}

// ReceiptOf returns the receipt of a sale of the community.
func (s *Service) ReceiptOf(ctx context.Context, q sqlx.QueryerContext, communityID, orderID string) (*Receipt, error) {
	o, err := orders.Get(ctx, q, communityID, orderID)
	if err != nil {
		return nil, err
	}
	return s.receipt(ctx, q, o)
}

func (s *Service) receipt(ctx context.Context, q sqlx.QueryerContext, o *orders.Order) (*Receipt, error) {
	sale, err := s.GetSale(ctx, q, o.CommunityID, o.ID)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Stall    string `db:"stall"`
		Name     string `db:"name"`
		Slug     string `db:"slug"`
		Timezone string `db:"timezone"`
	}
	if err := sqlx.GetContext(ctx, q, &meta, `SELECT l.name AS stall, c.name, c.slug, c.timezone FROM pos_sales ps
		JOIN locations l ON l.id = ps.location_id JOIN communities c ON c.id = ps.community_id WHERE ps.order_id=$1`, o.ID); err != nil {
		return nil, err
	}
	zone, err := time.LoadLocation(meta.Timezone)
	if err != nil {
		zone = time.FixedZone("CST", 8*3600)
	}
	r := &Receipt{Number: o.Number, Stall: meta.Stall, Total: o.Total, Discount: o.Discount, PaidAt: o.PaidAt, Method: sale.Payment.Method,
		Provider: sale.Payment.Provider, Status: o.Status, Community: meta.Name, CommunitySlug: meta.Slug,
		Tendered: sale.Payment.Tendered, Change: sale.Payment.Change, RefundedTotal: o.RefundedTotal, CreatedAt: o.CreatedAt,
		URL: s.ReceiptURL(o.ReceiptToken), Token: o.ReceiptToken, OrderID: o.ID, CommunityID: o.CommunityID, Zone: zone,
		Lines: []ReceiptLine{}, Refunds: []ReceiptRefund{},
		Fund: ReceiptFund{Amount: sale.FundAmount, Earmarks: sale.Earmarks}}
	// The trace link: the fund's public page of this sale's money once it
	// is posted, the community's transparency page before.
	base := strings.TrimRight(s.BaseURL, "/")
	if sale.TraceToken != "" {
		r.TraceURL = base + "/t/" + sale.TraceToken
	} else {
		r.TraceURL = base + "/c/" + meta.Slug
	}
	if r.Fund.Earmarks == nil {
		r.Fund.Earmarks = []fund.EarmarkPart{}
	}
	for _, l := range o.Lines {
		r.Lines = append(r.Lines, ReceiptLine{Name: l.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: l.Amount, RefundedQty: l.RefundedQty})
	}
	refunds, err := orders.Refunds(ctx, q, o.ID)
	if err != nil {
		return nil, err
	}
	for _, rf := range refunds {
		r.Refunds = append(r.Refunds, ReceiptRefund{Amount: rf.Amount, Reason: rf.Reason, At: rf.CreatedAt})
	}
	return r, nil
}

// MethodLabel names the payment method for people, in Chinese and English.
func (r *Receipt) MethodLabel() (zh, en string) {
	switch r.Provider {
	case "cash":
		return "现金", "Cash"
	case "sandbox":
		return "扫码支付（模拟）", "QR (sandbox)"
	case "static":
		return "收款码", "Static QR"
	case "wechatpay":
		return "微信支付", "WeChat Pay"
	case "alipay":
		return "支付宝", "Alipay"
	}
	return r.Provider, r.Provider
}

// ESC/POS commands for a 58 mm printer (32 columns of Font A).
var (
	escInit      = []byte{0x1b, 0x40}
	escCenter    = []byte{0x1b, 0x61, 1}
	escLeft      = []byte{0x1b, 0x61, 0}
	escBoldOn    = []byte{0x1b, 0x45, 1}
	escBoldOff   = []byte{0x1b, 0x45, 0}
	escDouble    = []byte{0x1d, 0x21, 0x11}
	escNormal    = []byte{0x1d, 0x21, 0x00}
	escChinese   = []byte{0x1c, 0x26} // FS &: two-byte (GB18030) characters
	escFeedCut   = []byte{0x1b, 0x64, 4, 0x1d, 0x56, 66, 0}
	receiptWidth = 32
)

// cols is how many printer columns s takes (CJK characters take two).
func cols(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// leftRight puts l at the left and r at the right of one line.
func leftRight(l, r string) string {
	gap := receiptWidth - cols(l) - cols(r)
	if gap < 1 {
		return l + "\n" + strings.Repeat(" ", max(0, receiptWidth-cols(r))) + r
	}
	return l + strings.Repeat(" ", gap) + r
}

// ESCPOS renders the receipt for a 58 mm thermal printer: GB18030 text,
// double-size total and fund share, and a QR code of the receipt page.
func (r *Receipt) ESCPOS() []byte {
	var b bytes.Buffer
	enc := simplifiedchinese.GB18030.NewEncoder()
	text := func(s string) {
		out, err := enc.String(s)
		if err != nil {
			out = strings.Map(func(r rune) rune {
				if r < utf8.RuneSelf {
					return r
				}
				return '?'
			}, s)
		}
		b.WriteString(out)
	}
	line := func(s string) { text(s); b.WriteByte('\n') }
	b.Write(escInit)
	b.Write(escChinese)
	b.Write(escCenter)
	b.Write(escBoldOn)
	line(r.Community)
	line(r.Stall)
	b.Write(escBoldOff)
	line("收据 Receipt " + r.Number)
	at := r.CreatedAt
	if r.PaidAt != nil {
		at = *r.PaidAt
	}
	line(at.In(r.Zone).Format("2006-01-02 15:04"))
	b.Write(escLeft)
	line(strings.Repeat("-", receiptWidth))
	for _, l := range r.Lines {
		line(l.Name)
		line(leftRight(fmt.Sprintf("  %d × %s", l.Qty, l.UnitPrice.Yuan()), l.Amount.Yuan()))
		if l.RefundedQty > 0 {
			line(fmt.Sprintf("  已退 Refunded %d", l.RefundedQty))
		}
	}
	line(strings.Repeat("-", receiptWidth))
	if r.Discount.IsPositive() {
		line(leftRight("优惠 Discount", "-"+r.Discount.Yuan()))
	}
	b.Write(escDouble)
	line("合计 " + r.Total.Yuan())
	b.Write(escNormal)
	line("Total")
	zh, en := r.MethodLabel()
	line(leftRight("支付 "+zh, en))
	if r.Tendered != nil && r.Change != nil {
		line(leftRight("收款 Tendered", r.Tendered.Yuan()))
		line(leftRight("找零 Change", r.Change.Yuan()))
	}
	for _, rf := range r.Refunds {
		line(leftRight("退款 Refund", "-"+rf.Amount.Yuan()))
	}
	line(strings.Repeat("-", receiptWidth))
	b.Write(escBoldOn)
	line("其中 " + r.Fund.Amount.Yuan() + " 进入")
	line(r.Community + "治理发展基金")
	b.Write(escBoldOff)
	line(r.Fund.Amount.Yuan() + " of this goes to the community fund")
	for _, e := range r.Fund.Earmarks {
		line(leftRight("  "+e.Name, e.Amount.Yuan()))
	}
	b.Write(escCenter)
	line("扫码查看去向 Scan to trace")
	qrESCPOS(&b, r.URL)
	line("谢谢惠顾 Thank you")
	b.Write(escFeedCut)
	return b.Bytes()
}

// qrESCPOS prints data as a QR code (GS ( k, model 2, module size 6).
func qrESCPOS(b *bytes.Buffer, data string) {
	b.Write([]byte{0x1d, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0}) // model 2
	b.Write([]byte{0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x43, 6})       // module size
	b.Write([]byte{0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x45, 0x31})    // error correction M
	n := len(data) + 3
	b.Write([]byte{0x1d, 0x28, 0x6b, byte(n % 256), byte(n / 256), 0x31, 0x50, 0x30})
	b.WriteString(data)
	b.Write([]byte{0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30}) // print
	b.WriteByte('\n')
}
