package pos_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/encoding/simplifiedchinese"

	"shelin/orders"
	"shelin/pos"
)

func TestReceiptShowsFundShareAndRefunds(t *testing.T) {
	f := setup(t, 10, 10)
	f.openShift("50")
	s := f.mustSell("cash", "", amt("100"), pos.SaleLine{ProductID: f.pastry, Qty: 2}, pos.SaleLine{ProductID: f.card, Qty: 2})
	f.tx(func(tx *sqlx.Tx) error {
		_, err := f.s.Refund(f.ctx, tx, f.cid, s.Order.ID, pos.RefundInput{Items: []orders.RefundItem{{ProductID: f.card, Qty: 1}},
			Reason: "折角", Restock: true, UserID: f.vol1, ApproverID: f.vol2})
		return err
	})
	r, err := f.s.ReceiptByToken(f.ctx, f.d, s.Order.ReceiptToken)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"number", "stall", "lines", "total", "paid_at", "method", "fund", "trace_url"} {
		if _, ok := j[k]; !ok {
			t.Errorf("receipt JSON lacks %q: %s", k, b)
		}
	}
	// Net 87.00 − 42.00 = 45.00; refunding one card (¥5.50, cost ¥1.00,
	// restocked) gives back its cost and its own fund share 4.50: 40.50.
	if r.Total.String() != "87.00" || r.Fund.Amount.String() != "40.50" || r.Method != "cash" || len(r.Refunds) != 1 {
		t.Fatalf("receipt %s", b)
	}
	if r.Lines[1].RefundedQty != 1 || r.Stall != "牡丹园摊位" || !strings.HasPrefix(r.TraceURL, "http://shelin.test/t/") {
		t.Fatalf("receipt %s", b)
	}
	if _, err := f.s.ReceiptByToken(f.ctx, f.d, "not-a-token-but-long-enough-x"); err == nil {
		t.Fatal("an unknown token must be not found")
	}

	esc := r.ESCPOS()
	if !bytes.HasPrefix(esc, []byte{0x1b, 0x40}) || !bytes.HasSuffix(esc, []byte{0x1d, 0x56, 66, 0}) {
		t.Fatal("ESC/POS must start with ESC @ and end with a cut")
	}
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(esc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s.Order.Number, "合计 ¥87.00", "其中 ¥40.50 进入", "找零 Change", "-¥5.50", r.URL} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("ESC/POS lacks %q", want)
		}
	}
}
