package inventory

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
)

// Operation is a business step that moved stock (a receipt, a transfer, a
// count, a write-off); its movements carry its id as ref.
type Operation struct {
	ID           string       `db:"id" json:"id"`
	Kind         string       `db:"kind" json:"kind"`
	LocationID   string       `db:"location_id" json:"location_id"`
	ToLocationID *string      `db:"to_location_id" json:"to_location_id,omitempty"`
	Note         string       `db:"note" json:"note"`
	UserID       *string      `db:"user_id" json:"user_id"`
	At           time.Time    `db:"at" json:"at"`
	Adjustments  []Adjustment `db:"-" json:"adjustments,omitempty"`
}

// Adjustment is what a count changed for one product.
type Adjustment struct {
	ProductID string `json:"product_id"`
	Expected  int    `json:"expected"`
	Counted   int    `json:"counted"`
	Delta     int    `json:"delta"`
}

func (s *Store) newOperation(ctx context.Context, tx *sqlx.Tx, communityID, kind, locationID string, to *string, note string, userID *string) (Operation, error) {
	var op Operation
	if len([]rune(note)) > 500 {
		return op, apperr.Field("note", "note is too long (at most 500 characters)")
	}
	err := tx.GetContext(ctx, &op, `INSERT INTO stock_operations (community_id, kind, location_id, to_location_id, note, user_id)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id, kind, location_id, to_location_id, note, user_id, at`,
		communityID, kind, locationID, to, strings.TrimSpace(note), userID)
	return op, err
}

// ReceiptLine is a quantity received, optionally as a lot with a code and a
// best-before date (YYYY-MM-DD; required for perishable products).
type ReceiptLine struct {
	ProductID  string `json:"product_id"`
	Qty        int    `json:"qty"`
	LotCode    string `json:"lot_code"`
	BestBefore string `json:"best_before"`
}

// ReceiptInput is stock arriving at a location.
type ReceiptInput struct {
	LocationID string        `json:"location_id"`
	Lines      []ReceiptLine `json:"lines"`
	Note       string        `json:"note"`
	UserID     *string       `json:"-"`
}

// Receive books stock arriving at a location (receipt movements).
func (s *Store) Receive(ctx context.Context, tx *sqlx.Tx, communityID string, in ReceiptInput) (Operation, error) {
	if len(in.Lines) == 0 {
		return Operation{}, apperr.Field("lines", "at least one line is required")
	}
	if len(in.Lines) > 500 {
		return Operation{}, apperr.Field("lines", "at most 500 lines")
	}
	plain := make([]Line, len(in.Lines))
	for i, l := range in.Lines {
		plain[i] = Line{ProductID: l.ProductID, Qty: l.Qty}
		if len(l.LotCode) > 64 {
			return Operation{}, apperr.Field(lineField(i, "lot_code"), "lot code is too long (at most 64 characters)")
		}
	}
	ms, err := mergeLines(plain) // validates quantities and ids
	if err != nil {
		return Operation{}, err
	}
	if _, err := s.locationField(ctx, tx, communityID, in.LocationID, "location_id"); err != nil {
		return Operation{}, err
	}
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return Operation{}, err
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return Operation{}, err
	}
	for i, l := range in.Lines {
		p := ps[l.ProductID]
		if !p.TrackStock {
			return Operation{}, apperr.Field(lineField(i, "product_id"), "%s does not track stock", p.Name)
		}
		if l.BestBefore != "" {
			d, err := time.Parse(time.DateOnly, l.BestBefore)
			if err != nil {
				return Operation{}, apperr.Field(lineField(i, "best_before"), "best-before must be a date like 2026-12-31")
			}
			if d.Format(time.DateOnly) < today {
				return Operation{}, apperr.Field(lineField(i, "best_before"), "best-before date %s is already past; expired goods cannot be received", l.BestBefore)
			}
		} else if p.Perishable {
			return Operation{}, apperr.Field(lineField(i, "best_before"), "%s is perishable: a best-before date is required", p.Name)
		}
	}
	op, err := s.newOperation(ctx, tx, communityID, "receipt", in.LocationID, nil, in.Note, in.UserID)
	if err != nil {
		return Operation{}, err
	}
	// Lock levels in product order, then book lines in input order.
	for _, m := range ms {
		if _, err := ensureLevel(ctx, tx, communityID, m.ProductID, in.LocationID); err != nil {
			return Operation{}, err
		}
	}
	for _, l := range in.Lines {
		var bb *string
		if l.BestBefore != "" {
			bb = &l.BestBefore
		}
		lot, err := ensureLot(ctx, tx, communityID, l.ProductID, strings.TrimSpace(l.LotCode), bb)
		if err != nil {
			return Operation{}, err
		}
		if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: l.ProductID, LocationID: in.LocationID,
			LotID: lot, Kind: MoveReceipt, Qty: l.Qty, Ref: op.ID, UserID: in.UserID}); err != nil {
			return Operation{}, err
		}
	}
	return op, nil
}

// TransferInput moves stock between locations (store → stall in the morning,
// back in the evening).
type TransferInput struct {
	FromLocationID string  `json:"from_location_id"`
	ToLocationID   string  `json:"to_location_id"`
	Lines          []Line  `json:"lines"`
	Note           string  `json:"note"`
	UserID         *string `json:"-"`
}

// Transfer moves available stock (on hand minus reserved) between two
// locations, lot by lot (first-expired first-out). Moving more than is
// available is insufficient_stock and changes nothing.
func (s *Store) Transfer(ctx context.Context, tx *sqlx.Tx, communityID string, in TransferInput) (Operation, error) {
	ms, err := mergeLines(in.Lines)
	if err != nil {
		return Operation{}, err
	}
	from, err := s.locationField(ctx, tx, communityID, in.FromLocationID, "from_location_id")
	if err != nil {
		return Operation{}, err
	}
	if _, err := s.locationField(ctx, tx, communityID, in.ToLocationID, "to_location_id"); err != nil {
		return Operation{}, err
	}
	if in.FromLocationID == in.ToLocationID {
		return Operation{}, apperr.Field("to_location_id", "choose two different locations")
	}
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return Operation{}, err
	}
	for _, m := range ms {
		if !ps[m.ProductID].TrackStock {
			return Operation{}, apperr.Field(lineField(m.Index, "product_id"), "%s does not track stock", ps[m.ProductID].Name)
		}
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return Operation{}, err
	}
	to := in.ToLocationID
	op, err := s.newOperation(ctx, tx, communityID, "transfer", in.FromLocationID, &to, in.Note, in.UserID)
	if err != nil {
		return Operation{}, err
	}
	if err := s.transferLines(ctx, tx, communityID, from, in.ToLocationID, ms, ps, today, op.ID, in.UserID); err != nil {
		return Operation{}, err
	}
	return op, nil
}

func (s *Store) transferLines(ctx context.Context, tx *sqlx.Tx, communityID string, from Location, toID string, ms []mergedLine, ps map[string]Product, today, ref string, userID *string) error {
	for _, m := range ms {
		// Lock both rows of this product in location-id order.
		locs := []string{from.ID, toID}
		sort.Strings(locs)
		var src level
		for _, l := range locs {
			lv, err := ensureLevel(ctx, tx, communityID, m.ProductID, l)
			if err != nil {
				return err
			}
			if l == from.ID {
				src = lv
			}
		}
		if avail := src.OnHand - src.Reserved; avail < m.Qty {
			return shortError(lineField(m.Index, "qty"), ps[m.ProductID], from, avail, 0)
		}
		takes, err := takeLots(ctx, tx, m.ProductID, from.ID, today, m.Qty, false)
		if err != nil {
			return err
		}
		for _, t := range takes {
			if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: m.ProductID, LocationID: from.ID,
				LotID: t.LotID, Kind: MoveTransferOut, Qty: -t.Qty, Ref: ref, UserID: userID}); err != nil {
				return mapStockErr(err)
			}
			if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: m.ProductID, LocationID: toID,
				LotID: t.LotID, Kind: MoveTransferIn, Qty: t.Qty, Ref: ref, UserID: userID}); err != nil {
				return err
			}
		}
	}
	return nil
}

// CountLine is what was counted of one product.
type CountLine struct {
	ProductID string `json:"product_id"`
	Counted   int    `json:"counted"`
}

// CountInput is a stocktake at a location.
type CountInput struct {
	LocationID string      `json:"location_id"`
	Lines      []CountLine `json:"lines"`
	Note       string      `json:"note"`
	UserID     *string     `json:"-"`
}

// Count books a stocktake: for each product counted, the difference to on
// hand becomes a count_adjustment movement. Losses leave the lots
// first-expired first (expired lots before good ones); a surplus goes to the
// lot the product last left from. A count below what unpaid sales hold is a
// conflict (settle or release them first).
func (s *Store) Count(ctx context.Context, tx *sqlx.Tx, communityID string, in CountInput) (Operation, error) {
	loc, err := s.locationField(ctx, tx, communityID, in.LocationID, "location_id")
	if err != nil {
		return Operation{}, err
	}
	op, err := s.newOperation(ctx, tx, communityID, "count", in.LocationID, nil, in.Note, in.UserID)
	if err != nil {
		return Operation{}, err
	}
	adj, err := s.countLines(ctx, tx, communityID, loc, in.Lines, op.ID, in.UserID)
	if err != nil {
		return Operation{}, err
	}
	op.Adjustments = adj
	return op, nil
}

func (s *Store) countLines(ctx context.Context, tx *sqlx.Tx, communityID string, loc Location, lines []CountLine, ref string, userID *string) ([]Adjustment, error) {
	if len(lines) == 0 {
		return nil, apperr.Field("lines", "at least one line is required")
	}
	if len(lines) > 500 {
		return nil, apperr.Field("lines", "at most 500 lines")
	}
	ms := make([]mergedLine, 0, len(lines))
	seen := map[string]bool{}
	for i, l := range lines {
		if l.ProductID == "" {
			return nil, apperr.Field(lineField(i, "product_id"), "product_id is required")
		}
		if l.Counted < 0 || l.Counted > 1_000_000 {
			return nil, apperr.Field(lineField(i, "counted"), "the count must be a whole number of 0 or more")
		}
		if seen[l.ProductID] {
			return nil, apperr.Field(lineField(i, "product_id"), "this product is counted twice")
		}
		seen[l.ProductID] = true
		ms = append(ms, mergedLine{ProductID: l.ProductID, Qty: l.Counted, Index: i})
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].ProductID < ms[b].ProductID })
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !ps[m.ProductID].TrackStock {
			return nil, apperr.Field(lineField(m.Index, "product_id"), "%s does not track stock", ps[m.ProductID].Name)
		}
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return nil, err
	}
	adj := make([]Adjustment, len(lines))
	for _, m := range ms {
		lv, err := ensureLevel(ctx, tx, communityID, m.ProductID, loc.ID)
		if err != nil {
			return nil, err
		}
		counted := m.Qty
		if counted < lv.Reserved {
			return nil, apperr.Conflictf("%s: %d are held for unpaid sales at %s, more than the %d counted; settle or cancel those sales first",
				ps[m.ProductID].Name, lv.Reserved, loc.Name, counted).WithField(lineField(m.Index, "counted"))
		}
		delta := counted - lv.OnHand
		adj[m.Index] = Adjustment{ProductID: m.ProductID, Expected: lv.OnHand, Counted: counted, Delta: delta}
		switch {
		case delta < 0:
			takes, err := takeLots(ctx, tx, m.ProductID, loc.ID, today, -delta, true)
			if err != nil {
				return nil, err
			}
			for _, t := range takes {
				if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: m.ProductID, LocationID: loc.ID,
					LotID: t.LotID, Kind: MoveCountAdjustment, Qty: -t.Qty, Ref: ref, UserID: userID}); err != nil {
					return nil, err
				}
			}
		case delta > 0:
			lot, err := restockLot(ctx, tx, communityID, m.ProductID, loc.ID)
			if err != nil {
				return nil, err
			}
			if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: m.ProductID, LocationID: loc.ID,
				LotID: lot, Kind: MoveCountAdjustment, Qty: delta, Ref: ref, UserID: userID}); err != nil {
				return nil, err
			}
		}
	}
	return adj, nil
}

// StallCloseInput is the evening flow at a stall: count what is left, then
// carry everything not held by unpaid sales back to the store.
type StallCloseInput struct {
	StallID string      `json:"stall_id"`
	StoreID string      `json:"store_id"`
	Lines   []CountLine `json:"lines"`
	Note    string      `json:"note"`
	UserID  *string     `json:"-"`
}

// StallCloseResult is the count and the transfer back.
type StallCloseResult struct {
	Count    Operation  `json:"count"`
	Transfer *Operation `json:"transfer"` // nil when nothing was left to carry back
	Returned []Line     `json:"returned"`
}

// CloseStall counts the stall and transfers what remains (on hand minus
// reserved, for every product at the stall) back to the store, in the
// caller's transaction.
func (s *Store) CloseStall(ctx context.Context, tx *sqlx.Tx, communityID string, in StallCloseInput) (StallCloseResult, error) {
	stall, err := s.locationField(ctx, tx, communityID, in.StallID, "stall_id")
	if err != nil {
		return StallCloseResult{}, err
	}
	if _, err := s.locationField(ctx, tx, communityID, in.StoreID, "store_id"); err != nil {
		return StallCloseResult{}, err
	}
	if in.StallID == in.StoreID {
		return StallCloseResult{}, apperr.Field("store_id", "choose two different locations")
	}
	var res StallCloseResult
	if len(in.Lines) > 0 {
		if res.Count, err = s.Count(ctx, tx, communityID, CountInput{LocationID: in.StallID, Lines: in.Lines, Note: in.Note, UserID: in.UserID}); err != nil {
			return StallCloseResult{}, err
		}
	}
	var left []struct {
		ProductID string `db:"product_id"`
		Qty       int    `db:"qty"`
	}
	if err := tx.SelectContext(ctx, &left, `SELECT product_id, on_hand - reserved AS qty FROM stock_levels
		WHERE community_id = $1 AND location_id = $2 AND on_hand - reserved > 0 ORDER BY product_id`, communityID, in.StallID); err != nil {
		return StallCloseResult{}, err
	}
	res.Returned = []Line{}
	if len(left) == 0 {
		return res, nil
	}
	lines := make([]Line, len(left))
	for i, l := range left {
		lines[i] = Line{ProductID: l.ProductID, Qty: l.Qty}
	}
	ms, _ := mergeLines(lines)
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return StallCloseResult{}, err
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return StallCloseResult{}, err
	}
	to := in.StoreID
	op, err := s.newOperation(ctx, tx, communityID, "transfer", in.StallID, &to, "evening return", in.UserID)
	if err != nil {
		return StallCloseResult{}, err
	}
	if err := s.transferLines(ctx, tx, communityID, stall, in.StoreID, ms, ps, today, op.ID, in.UserID); err != nil {
		return StallCloseResult{}, err
	}
	res.Transfer = &op
	res.Returned = lines
	return res, nil
}

// WriteOffLine takes qty of a product out of stock, from one lot or (LotID
// empty) expired lots first.
type WriteOffLine struct {
	ProductID string `json:"product_id"`
	LotID     string `json:"lot_id"`
	Qty       int    `json:"qty"`
}

// WriteOffInput is stock that is spoiled, expired or broken.
type WriteOffInput struct {
	LocationID string         `json:"location_id"`
	Lines      []WriteOffLine `json:"lines"`
	Reason     string         `json:"reason"`
	UserID     *string        `json:"-"`
}

// WriteOff books write_off movements. Stock held by reservations cannot be
// written off (insufficient_stock).
func (s *Store) WriteOff(ctx context.Context, tx *sqlx.Tx, communityID string, in WriteOffInput) (Operation, error) {
	if strings.TrimSpace(in.Reason) == "" {
		return Operation{}, apperr.Field("reason", "a reason is required for a write-off")
	}
	plain := make([]Line, len(in.Lines))
	for i, l := range in.Lines {
		plain[i] = Line{ProductID: l.ProductID, Qty: l.Qty}
		if l.LotID != "" && !validID(l.LotID) {
			return Operation{}, apperr.NotFoundf("lot not found").WithField(lineField(i, "lot_id"))
		}
	}
	ms, err := mergeLines(plain)
	if err != nil {
		return Operation{}, err
	}
	loc, err := s.locationField(ctx, tx, communityID, in.LocationID, "location_id")
	if err != nil {
		return Operation{}, err
	}
	ps, err := s.productsFor(ctx, tx, communityID, ms)
	if err != nil {
		return Operation{}, err
	}
	today, err := s.today(ctx, tx, communityID)
	if err != nil {
		return Operation{}, err
	}
	op, err := s.newOperation(ctx, tx, communityID, "write_off", in.LocationID, nil, in.Reason, in.UserID)
	if err != nil {
		return Operation{}, err
	}
	for _, m := range ms {
		if _, _, err := lockLevel(ctx, tx, m.ProductID, loc.ID); err != nil {
			return Operation{}, err
		}
	}
	for i, l := range in.Lines {
		p := ps[l.ProductID]
		lv, _, err := lockLevel(ctx, tx, l.ProductID, loc.ID)
		if err != nil {
			return Operation{}, err
		}
		if lv.OnHand-lv.Reserved < l.Qty {
			return Operation{}, shortError(lineField(i, "qty"), p, loc, lv.OnHand-lv.Reserved, 0)
		}
		var takes []lotTake
		if l.LotID != "" {
			var have int
			err := tx.GetContext(ctx, &have, `SELECT ls.on_hand FROM lot_stock ls WHERE ls.lot_id = $1 AND ls.location_id = $2 AND ls.product_id = $3`,
				l.LotID, loc.ID, l.ProductID)
			if isNoRows(err) {
				return Operation{}, apperr.NotFoundf("lot not found at %s", loc.Name).WithField(lineField(i, "lot_id"))
			}
			if err != nil {
				return Operation{}, err
			}
			if have < l.Qty {
				return Operation{}, shortError(lineField(i, "qty"), p, loc, have, 0)
			}
			takes = []lotTake{{l.LotID, l.Qty}}
		} else if takes, err = takeLots(ctx, tx, l.ProductID, loc.ID, today, l.Qty, true); err != nil {
			return Operation{}, err
		}
		for _, t := range takes {
			if _, err := move(ctx, tx, movement{CommunityID: communityID, ProductID: l.ProductID, LocationID: loc.ID,
				LotID: t.LotID, Kind: MoveWriteOff, Qty: -t.Qty, Ref: op.ID, UserID: in.UserID}); err != nil {
				return Operation{}, mapStockErr(err)
			}
		}
	}
	return op, nil
}

// WriteOffExpired writes off every expired lot at a location; it returns the
// operation (nil when nothing had expired). Expired units held by a
// reservation stay until it ends.
func (s *Store) WriteOffExpired(ctx context.Context, tx *sqlx.Tx, communityID, locationID string, userID *string) (*Operation, error) {
	lots, err := s.Lots(ctx, tx, communityID, locationID)
	if err != nil {
		return nil, err
	}
	levels, err := s.Levels(ctx, tx, communityID, locationID)
	if err != nil {
		return nil, err
	}
	avail := map[string]int{}
	for _, lv := range levels {
		avail[lv.ProductID] = lv.Available
	}
	var lines []WriteOffLine
	for _, l := range lots {
		if n := min(l.OnHand, avail[l.ProductID]); l.Expired && n > 0 {
			lines = append(lines, WriteOffLine{ProductID: l.ProductID, LotID: l.LotID, Qty: n})
			avail[l.ProductID] -= n
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	op, err := s.WriteOff(ctx, tx, communityID, WriteOffInput{LocationID: locationID, Lines: lines, Reason: "expired", UserID: userID})
	if err != nil {
		return nil, err
	}
	return &op, nil
}
