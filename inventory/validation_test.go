package inventory_test

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

// Bad input is refused with the field at fault, and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	other := newFixtureOn(t, f.db)
	pastry := f.product(inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥（6枚装）", Perishable: true})
	card := f.product(inventory.ProductInput{SKU: "CARD", Name: "文创书签"})
	foreign := other.product(inventory.ProductInput{SKU: "CARD", Name: "别的社区的书签"})
	f.receive(f.store.ID, inventory.ReceiptLine{ProductID: card.ID, Qty: 5})
	before := movementCount(t, f.db, f.cid)

	receipt := func(l inventory.ReceiptLine) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			_, err := f.inv.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: f.store.ID,
				Lines: []inventory.ReceiptLine{{ProductID: card.ID, Qty: 1}, l}})
			return err
		}
	}
	transfer := func(lines ...inventory.Line) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			_, err := f.inv.Transfer(f.ctx, tx, f.cid, inventory.TransferInput{FromLocationID: f.store.ID, ToLocationID: f.stall.ID, Lines: lines})
			return err
		}
	}
	product := func(in inventory.ProductInput) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			_, err := f.inv.CreateProduct(f.ctx, tx, f.cid, in)
			return err
		}
	}
	cases := []struct {
		name  string
		run   func(tx *sqlx.Tx) error
		code  apperr.Code
		field string
	}{
		{"zero quantity", receipt(inventory.ReceiptLine{ProductID: card.ID, Qty: 0}), apperr.Invalid, "lines[1].qty"},
		{"negative quantity", receipt(inventory.ReceiptLine{ProductID: card.ID, Qty: -3}), apperr.Invalid, "lines[1].qty"},
		{"unknown product", receipt(inventory.ReceiptLine{ProductID: "7d1c5f4e-0000-4000-8000-000000000000", Qty: 1}), apperr.NotFound, "lines[1].product_id"},
		{"malformed product id", receipt(inventory.ReceiptLine{ProductID: "牡丹酥", Qty: 1}), apperr.NotFound, "lines[1].product_id"},
		{"other community's product", receipt(inventory.ReceiptLine{ProductID: foreign.ID, Qty: 1}), apperr.NotFound, "lines[1].product_id"},
		{"perishable without best-before", receipt(inventory.ReceiptLine{ProductID: pastry.ID, Qty: 1}), apperr.Invalid, "lines[1].best_before"},
		{"perishable best-before in the past", receipt(inventory.ReceiptLine{ProductID: pastry.ID, Qty: 1, BestBefore: date(-1)}), apperr.Invalid, "lines[1].best_before"},
		{"best-before not a date", receipt(inventory.ReceiptLine{ProductID: pastry.ID, Qty: 1, BestBefore: "31/12/2026"}), apperr.Invalid, "lines[1].best_before"},
		{"other community's location", func(tx *sqlx.Tx) error {
			_, err := f.inv.Receive(f.ctx, tx, f.cid, inventory.ReceiptInput{LocationID: other.store.ID, Lines: []inventory.ReceiptLine{{ProductID: card.ID, Qty: 1}}})
			return err
		}, apperr.NotFound, "location_id"},
		{"transfer more than available", transfer(inventory.Line{ProductID: card.ID, Qty: 6}), apperr.InsufficientStock, "lines[0].qty"},
		{"transfer zero", transfer(inventory.Line{ProductID: card.ID, Qty: 0}), apperr.Invalid, "lines[0].qty"},
		{"transfer to the same place", func(tx *sqlx.Tx) error {
			_, err := f.inv.Transfer(f.ctx, tx, f.cid, inventory.TransferInput{FromLocationID: f.store.ID, ToLocationID: f.store.ID, Lines: []inventory.Line{{ProductID: card.ID, Qty: 1}}})
			return err
		}, apperr.Invalid, "to_location_id"},
		{"count below zero", func(tx *sqlx.Tx) error {
			_, err := f.inv.Count(f.ctx, tx, f.cid, inventory.CountInput{LocationID: f.store.ID, Lines: []inventory.CountLine{{ProductID: card.ID, Counted: -1}}})
			return err
		}, apperr.Invalid, "lines[0].counted"},
		{"price with three decimals", product(inventory.ProductInput{SKU: "X1", Name: "剪纸", Price: "12.505", UnitCost: "1"}), apperr.Invalid, "price"},
		{"negative price", product(inventory.ProductInput{SKU: "X2", Name: "剪纸", Price: "-1.00", UnitCost: "1"}), apperr.Invalid, "price"},
		{"price not a number", product(inventory.ProductInput{SKU: "X3", Name: "剪纸", Price: "12,50", UnitCost: "1"}), apperr.Invalid, "price"},
		{"cost with three decimals", product(inventory.ProductInput{SKU: "X4", Name: "剪纸", Price: "12", UnitCost: "0.001"}), apperr.Invalid, "unit_cost"},
		{"maker share over 100", product(inventory.ProductInput{SKU: "X5", Name: "国画", Price: "12", UnitCost: "0", MakerName: "画家", MakerSharePercent: "120"}), apperr.Invalid, "maker_share_percent"},
		{"maker share without maker", product(inventory.ProductInput{SKU: "X6", Name: "国画", Price: "12", UnitCost: "0", MakerSharePercent: "60"}), apperr.Invalid, "maker_name"},
		{"duplicate SKU", product(inventory.ProductInput{SKU: "CARD", Name: "书签", Price: "12", UnitCost: "0"}), apperr.Conflict, "sku"},
		{"bad SKU", product(inventory.ProductInput{SKU: "a b", Name: "书签", Price: "12", UnitCost: "0"}), apperr.Invalid, "sku"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.tx(c.run)
			wantCode(t, err, c.code, c.field)
			if n := movementCount(t, f.db, f.cid); n != before {
				t.Fatalf("movements: %d, want %d (nothing changed)", n, before)
			}
			f.checkLevel(card.ID, f.store.ID, 5, 0)
			f.checkLevel(card.ID, f.stall.ID, 0, 0)
		})
	}
	ps, err := f.inv.Products(f.ctx, f.db, f.cid, false)
	f.must(err)
	if len(ps) != 2 {
		t.Fatalf("products = %d, want the 2 created before", len(ps))
	}
	// Reading another community's product is not_found, not a leak.
	_, err = f.inv.Product(f.ctx, f.db, f.cid, foreign.ID)
	wantCode(t, err, apperr.NotFound, "")
	f.verify()
}

// The stock log is append-only: the database refuses UPDATE, DELETE and
// TRUNCATE of movements, and negative stock, whatever the code does.
func TestSchemaRefusesWhatCodeMustNeverDo(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶"})
	f.receive(f.store.ID, inventory.ReceiptLine{ProductID: p.ID, Qty: 3})
	for _, stmt := range []string{
		`UPDATE stock_movements SET qty = 300 WHERE community_id = $1`,
		`DELETE FROM stock_movements WHERE community_id = $1`,
		`UPDATE stock_levels SET on_hand = -1 WHERE community_id = $1`,
		`UPDATE stock_levels SET reserved = -1 WHERE community_id = $1`,
		`UPDATE stock_levels SET reserved = on_hand + 1 WHERE community_id = $1`,
		`UPDATE lot_stock SET on_hand = -1 WHERE community_id = $1`,
		`INSERT INTO stock_movements (community_id, product_id, location_id, lot_id, kind, qty)
			SELECT community_id, product_id, location_id, lot_id, 'sale', 5 FROM stock_movements WHERE community_id = $1 LIMIT 1`,
	} {
		if _, err := f.db.Exec(stmt, f.cid); err == nil {
			t.Errorf("%s: accepted; want an error", stmt)
		}
	}
	if _, err := f.db.Exec(`TRUNCATE stock_movements CASCADE`); err == nil {
		t.Errorf("TRUNCATE stock_movements accepted")
	}
	f.checkLevel(p.ID, f.store.ID, 3, 0)
	f.verify()
}
