package inventory

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validID reports whether id looks like a uuid; anything else cannot exist.
func validID(id string) bool { return uuidRe.MatchString(id) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

const productCols = `p.id, p.community_id, p.sku, p.name, p.group_name, p.name_en, p.price, p.unit_cost,
	p.barcode, p.image_id, i.sha256 AS image_hash, p.track_stock, p.perishable, p.active,
	p.maker_name, p.maker_share_percent, p.created_at, p.updated_at`

const productFrom = ` FROM products p LEFT JOIN product_images i ON i.id = p.image_id `

// Product returns one product of the community, or not_found.
func (s *Store) Product(ctx context.Context, q sqlx.QueryerContext, communityID, productID string) (Product, error) {
	var p Product
	if !validID(productID) || !validID(communityID) {
		return p, apperr.NotFoundf("product not found")
	}
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+productCols+productFrom+`WHERE p.community_id = $1 AND p.id = $2`, communityID, productID)
	if isNoRows(err) {
		return p, apperr.NotFoundf("product not found")
	}
	return p, err
}

// ProductBySKU returns the product with that SKU in the community.
func (s *Store) ProductBySKU(ctx context.Context, q sqlx.QueryerContext, communityID, sku string) (Product, error) {
	var p Product
	if !validID(communityID) {
		return p, apperr.NotFoundf("product not found")
	}
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+productCols+productFrom+`WHERE p.community_id = $1 AND p.sku = $2`, communityID, sku)
	if isNoRows(err) {
		return p, apperr.NotFoundf("product %q not found", sku)
	}
	return p, err
}

// Products returns the community's products ordered by group name then SKU
// (variants together). With activeOnly, inactive ones are left out.
func (s *Store) Products(ctx context.Context, q sqlx.QueryerContext, communityID string, activeOnly bool) ([]Product, error) {
	out := []Product{}
	if !validID(communityID) {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+productCols+productFrom+`
		WHERE p.community_id = $1 AND (p.active OR NOT $2) ORDER BY p.group_name, p.sku`, communityID, activeOnly)
	return out, err
}

// ProductsByID returns the listed products of the community keyed by id; an
// unknown id is not_found naming the field lines[i].product_id.
func (s *Store) ProductsByID(ctx context.Context, q sqlx.QueryerContext, communityID string, ids []string) (map[string]Product, error) {
	out := make(map[string]Product, len(ids))
	var want []string
	for i, id := range ids {
		if !validID(id) {
			return nil, apperr.NotFoundf("product %q not found", id).WithField(lineField(i, "product_id"))
		}
		want = append(want, id)
	}
	if len(want) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT `+productCols+productFrom+`WHERE p.community_id = ? AND p.id IN (?)`, communityID, want)
	if err != nil {
		return nil, err
	}
	var ps []Product
	if err := sqlx.SelectContext(ctx, q, &ps, sqlx.Rebind(sqlx.DOLLAR, query), args...); err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	for i, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, apperr.NotFoundf("product %q not found", id).WithField(lineField(i, "product_id"))
		}
	}
	return out, nil
}

// ProductInput creates a product. Price and UnitCost are strings as in the
// API ("12.50"); they are validated here so every caller gets the same rules.
type ProductInput struct {
	SKU               string  `json:"sku"`
	Name              string  `json:"name"`
	GroupName         string  `json:"group_name"` // defaults to Name
	NameEn            string  `json:"name_en"`
	Price             string  `json:"price"`
	UnitCost          string  `json:"unit_cost"`
	Barcode           string  `json:"barcode"`
	TrackStock        *bool   `json:"track_stock"` // default true
	Perishable        bool    `json:"perishable"`
	MakerName         string  `json:"maker_name"`
	MakerSharePercent string  `json:"maker_share_percent"` // "0"–"100", up to 2 decimals; "" = 0
	UserID            *string `json:"-"`
}

var skuRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
var barcodeRe = regexp.MustCompile(`^[0-9A-Za-z-]{4,64}$`)

func parseShare(s string) (decimal.Decimal, error) {
	if strings.TrimSpace(s) == "" {
		return decimal.Zero, nil
	}
	if !regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,2})?$`).MatchString(s) {
		return decimal.Zero, apperr.Field("maker_share_percent", "maker share must be a percentage between 0 and 100 with at most two decimals, like \"60\"")
	}
	d, _ := decimal.NewFromString(s)
	if d.GreaterThan(decimal.NewFromInt(100)) {
		return decimal.Zero, apperr.Field("maker_share_percent", "maker share cannot exceed 100%%")
	}
	return d, nil
}

func checkName(field, v string, required bool) error {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return apperr.Field(field, "%s is required", field)
	}
	if len([]rune(v)) > 200 {
		return apperr.Field(field, "%s is too long (at most 200 characters)", field)
	}
	return nil
}

// CreateProduct adds a product and its first price-history row.
func (s *Store) CreateProduct(ctx context.Context, tx *sqlx.Tx, communityID string, in ProductInput) (Product, error) {
	if !validID(communityID) {
		return Product{}, apperr.NotFoundf("community not found")
	}
	if !skuRe.MatchString(in.SKU) {
		return Product{}, apperr.Field("sku", "SKU must be 1–64 letters, digits, '.', '_' or '-'")
	}
	if err := checkName("name", in.Name, true); err != nil {
		return Product{}, err
	}
	group := strings.TrimSpace(in.GroupName)
	if group == "" {
		group = strings.TrimSpace(in.Name)
	}
	if err := checkName("group_name", group, true); err != nil {
		return Product{}, err
	}
	if err := checkName("name_en", in.NameEn, false); err != nil {
		return Product{}, err
	}
	price, err := money.ParseNonNegative("price", in.Price)
	if err != nil {
		return Product{}, err
	}
	cost, err := money.ParseNonNegative("unit_cost", in.UnitCost)
	if err != nil {
		return Product{}, err
	}
	share, err := parseShare(in.MakerSharePercent)
	if err != nil {
		return Product{}, err
	}
	maker := strings.TrimSpace(in.MakerName)
	if share.IsPositive() && maker == "" {
		return Product{}, apperr.Field("maker_name", "a maker share needs the maker's name")
	}
	var barcode *string
	if b := strings.TrimSpace(in.Barcode); b != "" {
		if !barcodeRe.MatchString(b) {
			return Product{}, apperr.Field("barcode", "barcode must be 4–64 letters or digits")
		}
		barcode = &b
	}
	track := true
	if in.TrackStock != nil {
		track = *in.TrackStock
	}
	if in.Perishable && !track {
		return Product{}, apperr.Field("track_stock", "a perishable product must track stock (best-before dates live on stock lots)")
	}
	var id string
	err = tx.GetContext(ctx, &id, `INSERT INTO products (community_id, sku, name, group_name, name_en, price, unit_cost, barcode,
			track_stock, perishable, maker_name, maker_share_percent)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		communityID, in.SKU, strings.TrimSpace(in.Name), group, strings.TrimSpace(in.NameEn), price, cost, barcode,
		track, in.Perishable, maker, share)
	switch {
	case db.IsUniqueViolation(err, "products_community_id_sku_key"):
		return Product{}, apperr.Conflictf("SKU %q is already used in this community", in.SKU).WithField("sku")
	case db.IsUniqueViolation(err, "products_barcode"):
		return Product{}, apperr.Conflictf("barcode %q is already used in this community", *barcode).WithField("barcode")
	case isFKViolation(err):
		return Product{}, apperr.NotFoundf("community not found")
	case err != nil:
		return Product{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO product_price_history (community_id, product_id, price, unit_cost, maker_share_percent, user_id)
		VALUES ($1,$2,$3,$4,$5,$6)`, communityID, id, price, cost, share, in.UserID); err != nil {
		return Product{}, err
	}
	return s.Product(ctx, tx, communityID, id)
}

// ProductPatch changes some fields of a product; nil fields stay as they are.
type ProductPatch struct {
	Name              *string `json:"name"`
	GroupName         *string `json:"group_name"`
	NameEn            *string `json:"name_en"`
	Price             *string `json:"price"`
	UnitCost          *string `json:"unit_cost"`
	Barcode           *string `json:"barcode"` // "" removes it
	TrackStock        *bool   `json:"track_stock"`
	Perishable        *bool   `json:"perishable"`
	Active            *bool   `json:"active"`
	MakerName         *string `json:"maker_name"`
	MakerSharePercent *string `json:"maker_share_percent"`
	UserID            *string `json:"-"`
}

// UpdateProduct applies a patch. A change of price, cost or maker share adds
// a price-history row; sales keep the price they were sold at in their lines.
func (s *Store) UpdateProduct(ctx context.Context, tx *sqlx.Tx, communityID, productID string, pt ProductPatch) (Product, error) {
	if !validID(productID) || !validID(communityID) {
		return Product{}, apperr.NotFoundf("product not found")
	}
	var p Product
	err := tx.GetContext(ctx, &p, `SELECT `+productCols+productFrom+`WHERE p.community_id = $1 AND p.id = $2 FOR NO KEY UPDATE OF p`, communityID, productID)
	if isNoRows(err) {
		return p, apperr.NotFoundf("product not found")
	}
	if err != nil {
		return p, err
	}
	old := p
	if pt.Name != nil {
		if err := checkName("name", *pt.Name, true); err != nil {
			return p, err
		}
		p.Name = strings.TrimSpace(*pt.Name)
	}
	if pt.GroupName != nil {
		if err := checkName("group_name", *pt.GroupName, true); err != nil {
			return p, err
		}
		p.GroupName = strings.TrimSpace(*pt.GroupName)
	}
	if pt.NameEn != nil {
		if err := checkName("name_en", *pt.NameEn, false); err != nil {
			return p, err
		}
		p.NameEn = strings.TrimSpace(*pt.NameEn)
	}
	if pt.Price != nil {
		if p.Price, err = money.ParseNonNegative("price", *pt.Price); err != nil {
			return old, err
		}
	}
	if pt.UnitCost != nil {
		if p.UnitCost, err = money.ParseNonNegative("unit_cost", *pt.UnitCost); err != nil {
			return old, err
		}
	}
	if pt.Barcode != nil {
		b := strings.TrimSpace(*pt.Barcode)
		if b == "" {
			p.Barcode = nil
		} else if !barcodeRe.MatchString(b) {
			return old, apperr.Field("barcode", "barcode must be 4–64 letters or digits")
		} else {
			p.Barcode = &b
		}
	}
	if pt.TrackStock != nil {
		p.TrackStock = *pt.TrackStock
	}
	if pt.Perishable != nil {
		p.Perishable = *pt.Perishable
	}
	if pt.Active != nil {
		p.Active = *pt.Active
	}
	if pt.MakerName != nil {
		p.MakerName = strings.TrimSpace(*pt.MakerName)
	}
	if pt.MakerSharePercent != nil {
		if p.MakerSharePercent, err = parseShare(*pt.MakerSharePercent); err != nil {
			return old, err
		}
	}
	if p.MakerSharePercent.IsPositive() && p.MakerName == "" {
		return old, apperr.Field("maker_name", "a maker share needs the maker's name")
	}
	if p.Perishable && !p.TrackStock {
		return old, apperr.Field("track_stock", "a perishable product must track stock")
	}
	if old.TrackStock && !p.TrackStock {
		var held int
		if err := tx.GetContext(ctx, &held, `SELECT COALESCE(sum(on_hand), 0) FROM stock_levels WHERE product_id = $1`, productID); err != nil {
			return old, err
		}
		if held > 0 {
			return old, apperr.Conflictf("%s still has %d in stock; count it to zero before turning stock tracking off", p.Name, held).WithField("track_stock")
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE products SET name=$3, group_name=$4, name_en=$5, price=$6, unit_cost=$7, barcode=$8,
			track_stock=$9, perishable=$10, active=$11, maker_name=$12, maker_share_percent=$13, updated_at=now()
		WHERE community_id=$1 AND id=$2`,
		communityID, productID, p.Name, p.GroupName, p.NameEn, p.Price, p.UnitCost, p.Barcode,
		p.TrackStock, p.Perishable, p.Active, p.MakerName, p.MakerSharePercent)
	if db.IsUniqueViolation(err, "products_barcode") {
		return old, apperr.Conflictf("barcode is already used in this community").WithField("barcode")
	}
	if err != nil {
		return old, err
	}
	if !old.Price.Equal(p.Price) || !old.UnitCost.Equal(p.UnitCost) || !old.MakerSharePercent.Equal(p.MakerSharePercent) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO product_price_history (community_id, product_id, price, unit_cost, maker_share_percent, user_id)
			VALUES ($1,$2,$3,$4,$5,$6)`, communityID, productID, p.Price, p.UnitCost, p.MakerSharePercent, pt.UserID); err != nil {
			return old, err
		}
	}
	return s.Product(ctx, tx, communityID, productID)
}

// PriceChange is one row of a product's price history.
type PriceChange struct {
	Price             money.Amount    `db:"price" json:"price"`
	UnitCost          money.Amount    `db:"unit_cost" json:"unit_cost"`
	MakerSharePercent decimal.Decimal `db:"maker_share_percent" json:"maker_share_percent"`
	UserID            *string         `db:"user_id" json:"user_id"`
	At                time.Time       `db:"at" json:"at"`
}

// PriceHistory lists a product's prices, oldest first.
func (s *Store) PriceHistory(ctx context.Context, q sqlx.QueryerContext, communityID, productID string) ([]PriceChange, error) {
	if _, err := s.Product(ctx, q, communityID, productID); err != nil {
		return nil, err
	}
	out := []PriceChange{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT price, unit_cost, maker_share_percent, user_id, at
		FROM product_price_history WHERE community_id = $1 AND product_id = $2 ORDER BY id`, communityID, productID)
	return out, err
}
