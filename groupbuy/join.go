package groupbuy

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/jobs"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// JoinInput is a neighbour joining a campaign.
type JoinInput struct {
	Name     string
	Phone    string
	Building string
	Qty      int
	Provider string // sandbox, wechatpay, alipay
}

// Joined is a new join with its order and payment.
type Joined struct {
	Join     *Join
	Campaign *Campaign
	Order    *orders.Order
	Payment  *orders.Payment
}

var phoneRe = regexp.MustCompile(`^1[0-9]{10}$`)

// NormalizePhone keeps the digits of a mainland mobile number (spaces,
// dashes and a +86 prefix are dropped).
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return d
}

// Join records a neighbour's join in the caller's transaction: the
// campaign's capacity is claimed with one conditional UPDATE of its row
// (whoever comes when it is full is refused, whatever the concurrency), the
// per-person limit is checked under that row lock, then the order, its
// payment at the provider (a local create, like a stall sale), the stock
// (when the campaign holds stock) and the join with its pickup code are
// written, and the join's expiry is scheduled.
func (s *Service) Join(ctx context.Context, tx *sqlx.Tx, token string, in JoinInput) (*Joined, error) {
	in.Name, in.Building = strings.TrimSpace(in.Name), strings.TrimSpace(in.Building)
	in.Phone = NormalizePhone(in.Phone)
	switch {
	case in.Qty <= 0 || in.Qty > 1000:
		return nil, refuse("qty", 0, apperr.Field("qty", "qty must be a positive whole number"))
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 40:
		return nil, refuse("name", 0, apperr.Field("name", "a name of 1–40 characters is required"))
	case !phoneRe.MatchString(in.Phone):
		return nil, refuse("phone", 0, apperr.Field("phone", "a mobile number of 11 digits is required"))
	case utf8.RuneCountInString(in.Building) > 40:
		return nil, refuse("building", 0, apperr.Field("building", "the building is too long"))
	}
	prov, err := s.Providers.Get(in.Provider)
	if err != nil {
		return nil, refuse("provider", 0, apperr.Field("provider", "payment provider %q is not available here", in.Provider))
	}
	if prov.Method() != "qr" || prov.Name() == payment.Static {
		return nil, refuse("provider", 0, apperr.Field("provider", "pay a group-buy with sandbox, wechatpay or alipay"))
	}
	c0, err := s.ByToken(ctx, tx, token)
	if err != nil {
		return nil, err
	}
	p, err := s.Inventory.Product(ctx, tx, c0.CommunityID, c0.ProductID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	// Refuse at once, without queueing on the campaign row, when it is
	// plainly closed or full (the conditional UPDATE below decides).
	if c0.Status != Open || !c0.Deadline.After(now) {
		return nil, refuse("closed", 0, apperr.Conflictf("this group-buy is closed"))
	}
	if c0.Left() <= 0 {
		return nil, refuse("full", 0, apperr.Conflictf("this group-buy is full"))
	}
	var c Campaign
	err = tx.GetContext(ctx, &c, `UPDATE groupbuy_campaigns SET held_qty = held_qty + $2
		WHERE id=$1 AND status='open' AND deadline > $3 AND held_qty + $2 <= max_qty RETURNING `+campaignCols, c0.ID, in.Qty, now)
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := getCampaign(ctx, tx, `id=$1`, c0.ID)
		if err != nil {
			return nil, err
		}
		if cur.Status != Open || !cur.Deadline.After(now) {
			return nil, refuse("closed", 0, apperr.Conflictf("this group-buy is closed"))
		}
		if cur.Left() <= 0 {
			return nil, refuse("full", 0, apperr.Conflictf("this group-buy is full"))
		}
		return nil, refuse("left", cur.Left(), apperr.Field("qty", "only %d left", cur.Left()))
	}
	if err != nil {
		return nil, err
	}
	if c.PerPersonMax != nil {
		var have int
		if err := tx.GetContext(ctx, &have, `SELECT COALESCE(sum(qty),0) FROM groupbuy_joins WHERE campaign_id=$1 AND phone=$2
			AND status IN ('pending','paid','confirmed')`, c.ID, in.Phone); err != nil {
			return nil, err
		}
		if have+in.Qty > *c.PerPersonMax {
			left := max(*c.PerPersonMax-have, 0)
			return nil, refuse("per_person", left, apperr.Field("qty", "each neighbour may take %d; %d more for this number", *c.PerPersonMax, left))
		}
	}
	expires := now.Add(s.joinTTL())
	if expires.After(c.Deadline) {
		expires = c.Deadline
	}
	o, err := orders.Create(ctx, tx, orders.New{CommunityID: c.CommunityID, Channel: Channel, Prefix: "GB",
		Lines: []orders.NewLine{{ProductID: p.ID, Name: p.Name, Qty: in.Qty, UnitPrice: c.Price, UnitCost: c.SupplierPerUnit()}}})
	if err != nil {
		return nil, err
	}
	pay, err := orders.CreatePayment(ctx, tx, orders.NewPayment{CommunityID: c.CommunityID, OrderID: o.ID, Provider: prov.Name(),
		Amount: o.Total, ExpiresAt: &expires})
	if err != nil {
		return nil, err
	}
	created, err := prov.Create(ctx, tx, payment.CreateRequest{CommunityID: c.CommunityID, PaymentID: pay.ID, MerchantRef: pay.MerchantRef,
		Amount: pay.Amount, Description: c.Title + " " + o.Number, ExpiresAt: expires})
	if err != nil {
		return nil, err
	}
	if created.QRPayload != "" {
		if err := orders.SetQRPayload(ctx, tx, pay.ID, created.QRPayload); err != nil {
			return nil, err
		}
		pay.QRPayload = &created.QRPayload
	}
	var resID any
	if c.LocationID != nil && p.TrackStock {
		res, err := s.Inventory.ReserveOwned(ctx, tx, c.CommunityID, *c.LocationID, []inventory.Line{{ProductID: p.ID, Qty: in.Qty}},
			o.Number, reservationOwner, c.Deadline)
		if err != nil {
			return nil, err
		}
		resID = res.ID
	}
	// The pickup code is drawn at random; a code already used in the
	// campaign (the campaign row is locked: nobody else draws now) is drawn
	// again.
	var j Join
	for attempt := 0; ; attempt++ {
		err := tx.GetContext(ctx, &j, `INSERT INTO groupbuy_joins (community_id, campaign_id, order_id, payment_id, token, name, phone, building,
				qty, amount, status, pickup_code, reservation_id, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'pending',$11,$12,$13)
			ON CONFLICT (campaign_id, pickup_code) DO NOTHING RETURNING `+joinCols,
			c.CommunityID, c.ID, o.ID, pay.ID, payment.Token(), in.Name, in.Phone, in.Building, in.Qty, o.Total, pickupCode(), resID, expires)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if attempt >= 50 {
			return nil, apperr.Conflictf("no free pickup code left in this group-buy")
		}
	}
	if _, err := jobs.Insert(ctx, tx, ExpireJoinArgs{CommunityID: c.CommunityID, JoinID: j.ID},
		&jobs.InsertOpts{ScheduledAt: expires, MaxAttempts: 25}); err != nil {
		return nil, err
	}
	return &Joined{Join: &j, Campaign: &c, Order: o, Payment: pay}, nil
}
