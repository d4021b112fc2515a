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
	// ProxyBy: a 邻长 records a neighbour without a smartphone who paid
	// them in cash (Provider "cash"); the join is paid at once.
	ProxyBy string
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

// Join records a neighbour's join in the caller's transaction: the campaign
// row is held FOR SHARE (no settlement meanwhile), the per-person limit is
// checked under an advisory lock of (campaign, phone), qty free slots are
// claimed with SKIP LOCKED (whoever comes when none is left is refused,
// whatever the concurrency), then the order (numbered from the group-buy
// sequence, not the community's daily counter), its
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
	switch {
	case payment.IsRemote(prov):
		// Remote providers create their QR after commit (pos's outbox); joins
		// do not do that yet, and a provider is never called inside a
		// database transaction.
		return nil, refuse("provider", 0, apperr.Field("provider", "group-buy joins cannot be paid with %s yet; use the sandbox or pay the 邻长 in cash", in.Provider))
	case prov.Name() == payment.Cash && in.ProxyBy != "":
	case prov.Method() != "qr" || prov.Name() == payment.Static || in.ProxyBy != "":
		return nil, refuse("provider", 0, apperr.Field("provider", "pay a group-buy with sandbox, wechatpay or alipay (cash only through the 邻长)"))
	}
	if !tokenRe.MatchString(token) {
		return nil, apperr.NotFoundf("group-buy not found")
	}
	// The campaign row is held FOR SHARE: no settlement while this join is
	// written, and its status is as committed (held/paid figures are of this
	// statement's snapshot, enough to refuse a plainly full campaign at once).
	cp, err := getCampaign(ctx, tx, `token=$1 FOR SHARE`, token)
	if err != nil {
		return nil, err
	}
	c := *cp
	now := s.now()
	if c.Status != Open || !c.Deadline.After(now) {
		return nil, refuse("closed", 0, apperr.Conflictf("this group-buy is closed"))
	}
	if c.Left() <= 0 {
		return nil, refuse("full", 0, apperr.Conflictf("this group-buy is full"))
	}
	if c.PerPersonMax != nil {
		// One neighbour's joins of a campaign queue here, nobody else's.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "groupbuy:"+c.ID+":"+in.Phone); err != nil {
			return nil, err
		}
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
	// Claim qty free slots; slots that other joins are claiming right now
	// are skipped, never waited for.
	joinID := newID()
	var got []int
	if err := tx.SelectContext(ctx, &got, `WITH free AS (
			SELECT n FROM groupbuy_slots WHERE campaign_id=$1 AND join_id IS NULL ORDER BY n LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE groupbuy_slots s SET join_id=$3 FROM free WHERE s.campaign_id=$1 AND s.n=free.n RETURNING s.n`, c.ID, in.Qty, joinID); err != nil {
		return nil, err
	}
	if len(got) < in.Qty {
		if len(got) == 0 {
			return nil, refuse("full", 0, apperr.Conflictf("this group-buy is full"))
		}
		return nil, refuse("left", len(got), apperr.Field("qty", "only %d left", len(got)))
	}
	p, err := s.Inventory.Product(ctx, tx, c.CommunityID, c.ProductID)
	if err != nil {
		return nil, err
	}
	var seq int
	if err := tx.GetContext(ctx, &seq, `SELECT nextval('groupbuy_order_seq')`); err != nil {
		return nil, err
	}
	expires := now.Add(s.joinTTL())
	if expires.After(c.Deadline) {
		expires = c.Deadline
	}
	o, err := orders.Create(ctx, tx, orders.New{CommunityID: c.CommunityID, Channel: Channel, Prefix: "GB", Seq: seq,
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
		err := tx.GetContext(ctx, &j, `INSERT INTO groupbuy_joins (id, community_id, campaign_id, order_id, payment_id, token, name, phone, building,
				qty, amount, status, pickup_code, reservation_id, expires_at, proxy_by)
			VALUES ($14,$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'pending',$11,$12,$13,$15)
			ON CONFLICT (campaign_id, pickup_code) DO NOTHING RETURNING `+joinCols,
			c.CommunityID, c.ID, o.ID, pay.ID, payment.Token(), in.Name, in.Phone, in.Building, in.Qty, o.Total, pickupCode(), resID, expires, joinID,
			nullable(in.ProxyBy))
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
	if in.ProxyBy != "" {
		// The 邻长 holds the cash: the join is paid now, through the one
		// confirmation path (its rows are new to this transaction).
		l := &locked{c: &c, o: o, p: pay, j: &j}
		if _, err := s.confirm(ctx, tx, l, evidence{Source: "cash", Amount: pay.Amount}); err != nil {
			return nil, err
		}
		jj, err := getJoin(ctx, tx, `id=$1`, j.ID)
		if err != nil {
			return nil, err
		}
		pp, err := orders.PaymentOf(ctx, tx, o.ID)
		if err != nil {
			return nil, err
		}
		j, pay = *jj, pp
	}
	return &Joined{Join: &j, Campaign: &c, Order: o, Payment: pay}, nil
}
