// Package groupbuy is the charity group-buy (社邻益购): a 邻长 posts a deal,
// neighbours join and prepay, and at the deadline the campaign settles all
// or nothing, exactly once.
//
//	campaign: open ──threshold met at settlement──▶ succeeded
//	               └─threshold not met───────────▶ failed
//
//	join:  pending ──paid (provider)──▶ paid ──campaign succeeded──▶ confirmed ──pickup code──▶ picked up
//	          │                          └──campaign failed──▶ refunding ──provider refunded──▶ refunded
//	          └──expired (time up, or the campaign settled first)
//	             └──paid after all ──▶ held (suspense) ──▶ refunded automatically
//
// A join is an order of channel "groupbuy" with its one payment. Its money:
//
//   - paid:        Dr provider clearing / Cr group-buy escrow (a transfer);
//   - succeeded:   the order becomes paid and its proceeds are posted from
//     escrow (sandbox money: escrow back to sandbox clearing first, so the
//     proceeds stay marked simulated): Cr supplier payable with the price
//     less the campaign's fund share, Cr the fund with the fund share per
//     unit, split into earmarks, traceable to the join's order;
//   - failed:      the order is cancelled and a refund is queued in the
//     outbox (groupbuy_refunds); the provider is called outside any
//     transaction, idempotently on the refund id; when it confirms, Dr escrow
//     / Cr clearing;
//   - held:        money that arrives for a join that can no longer take it
//     is booked to suspense (Dr clearing / Cr customer refunds payable, the
//     payment held, as for a stall sale) and refunded through the same outbox.
//
// Capacity (max_qty) and the per-person limit hold under any concurrency: a
// campaign has one slot row per unit and a join claims free slots with FOR
// UPDATE SKIP LOCKED (never more units than slots, and no hot row: joins
// commit side by side); the per-person sum is read under an advisory lock of
// (campaign, phone). Joins, payments and expiry hold the campaign row FOR
// SHARE; the settlement takes it FOR UPDATE, so it sees every join that
// committed and no join starts while it runs. Lock order everywhere:
// campaign, then order, then payment, then join, then its slots.
//
// The package never imports Fiber or web; pos routes a notification for a
// group-buy order here through pos.ChannelNotifications.
package groupbuy

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders/payment"
)

// Campaign statuses.
const (
	Open      = "open"
	Succeeded = "succeeded"
	Failed    = "failed"
	Closed    = "closed"
)

// Join statuses.
const (
	JoinPending   = "pending"
	JoinPaid      = "paid"
	JoinExpired   = "expired"
	JoinConfirmed = "confirmed"
	JoinRefunding = "refunding"
	JoinRefunded  = "refunded"
	JoinHeld      = "held"
)

// Channel is the orders channel of a join.
const Channel = "groupbuy"

// reservationOwner owns the stock a join holds (inventory.ReserveOwned).
const reservationOwner = "groupbuy_join"

// Service is the group-buy use cases over one database.
type Service struct {
	DB        *sqlx.DB
	Inventory *inventory.Store
	Fund      *fund.Ledger
	Providers *payment.Registry
	// BaseURL is the public base of join, poster and pickup links.
	BaseURL string
	// JoinTTL is how long an unpaid join holds its quantity (default 15 min).
	JoinTTL time.Duration
	// Now is the clock (tests move it).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) joinTTL() time.Duration {
	if s.JoinTTL > 0 {
		return s.JoinTTL
	}
	return 15 * time.Minute
}

// Campaign is one deal.
type Campaign struct {
	ID           string       `db:"id" json:"id"`
	CommunityID  string       `db:"community_id" json:"community_id"`
	Token        string       `db:"token" json:"-"`
	Title        string       `db:"title" json:"title"`
	Description  string       `db:"description" json:"description"`
	ProductID    string       `db:"product_id" json:"product_id"`
	Price        money.Amount `db:"price" json:"price"`
	FundPerUnit  money.Amount `db:"fund_per_unit" json:"fund_per_unit"`
	MinQty       int          `db:"min_qty" json:"min_qty"`
	MaxQty       int          `db:"max_qty" json:"max_qty"`
	PerPersonMax *int         `db:"per_person_max" json:"per_person_max"`
	Deadline     time.Time    `db:"deadline" json:"deadline"`
	PickupPoint  string       `db:"pickup_point" json:"pickup_point"`
	PickupFrom   *time.Time   `db:"pickup_from" json:"pickup_from"`
	PickupUntil  *time.Time   `db:"pickup_until" json:"pickup_until"`
	MicroGrid    string       `db:"micro_grid" json:"micro_grid"`
	LocationID   *string      `db:"location_id" json:"location_id"`
	Status       string       `db:"status" json:"status"`
	// HeldQty: units held by pending and paid joins (slots claimed).
	HeldQty int `db:"held_qty" json:"held_qty"`
	// PaidQty: units whose money arrived while the join could take it.
	PaidQty   int        `db:"paid_qty" json:"paid_qty"`
	CreatedBy *string    `db:"created_by" json:"-"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	SettledAt *time.Time `db:"settled_at" json:"settled_at"`
}

const campaignCols = `id, community_id, token, title, description, product_id, price, fund_per_unit, min_qty, max_qty, per_person_max,
	deadline, pickup_point, pickup_from, pickup_until, micro_grid, location_id, status, created_by, created_at, settled_at,
	(SELECT count(*) FROM groupbuy_slots s WHERE s.campaign_id = groupbuy_campaigns.id AND s.join_id IS NOT NULL) AS held_qty,
	(SELECT COALESCE(sum(j.qty), 0) FROM groupbuy_joins j WHERE j.campaign_id = groupbuy_campaigns.id AND j.paid_at IS NOT NULL) AS paid_qty`

// SupplierPerUnit is what each unit pays the supplier: the price less the
// fund's share.
func (c *Campaign) SupplierPerUnit() money.Amount { return c.Price.Sub(c.FundPerUnit) }

// Left is how many units can still be joined.
func (c *Campaign) Left() int { return c.MaxQty - c.HeldQty }

// Join is one neighbour's part in a campaign.
type Join struct {
	ID            string       `db:"id" json:"id"`
	CommunityID   string       `db:"community_id" json:"-"`
	CampaignID    string       `db:"campaign_id" json:"campaign_id"`
	OrderID       string       `db:"order_id" json:"order_id"`
	PaymentID     string       `db:"payment_id" json:"payment_id"`
	Token         string       `db:"token" json:"-"`
	Name          string       `db:"name" json:"name"`
	Phone         string       `db:"phone" json:"-"`
	Building      string       `db:"building" json:"building"`
	Qty           int          `db:"qty" json:"qty"`
	Amount        money.Amount `db:"amount" json:"amount"`
	Status        string       `db:"status" json:"status"`
	PickupCode    string       `db:"pickup_code" json:"-"`
	ReservationID *string      `db:"reservation_id" json:"-"`
	ProxyBy       *string      `db:"proxy_by" json:"-"`
	ExpiresAt     time.Time    `db:"expires_at" json:"expires_at"`
	CreatedAt     time.Time    `db:"created_at" json:"created_at"`
	PaidAt        *time.Time   `db:"paid_at" json:"paid_at"`
	PickedUpAt    *time.Time   `db:"picked_up_at" json:"picked_up_at"`
	PickedUpBy    *string      `db:"picked_up_by" json:"-"`
	PickedUpFor   string       `db:"picked_up_for" json:"picked_up_for,omitempty"`
}

const joinCols = `id, community_id, campaign_id, order_id, payment_id, token, name, phone, building, qty, amount, status, pickup_code,
	reservation_id, proxy_by, expires_at, created_at, paid_at, picked_up_at, picked_up_by, picked_up_for`

// Refusal is why a join or a pickup was refused, with a catalogue key the
// pages translate (gb.err.<Key>) and a number for the message (units left).
type Refusal struct {
	Key string
	N   int
	err *apperr.Error
}

func (r *Refusal) Error() string { return r.err.Error() }
func (r *Refusal) Unwrap() error { return r.err }

func refuse(key string, n int, err *apperr.Error) error { return &Refusal{Key: key, N: n, err: err} }

// MaskPhone shows a phone number as 138****1234.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return "****"
	}
	return p[:3] + "****" + p[len(p)-4:]
}

// MaskName shows a neighbour's name as 王** (the first character, then one
// star per remaining character, at least one).
func MaskName(n string) string {
	n = strings.TrimSpace(n)
	if n == "" {
		return "**"
	}
	r, size := utf8.DecodeRuneInString(n)
	rest := utf8.RuneCountInString(n[size:])
	if rest < 1 {
		rest = 1
	}
	return string(r) + strings.Repeat("*", rest)
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// pickupCode returns a random 6-digit code.
func pickupCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1000000)
}
