package groupbuy

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/jobs"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/orders/payment"
)

// CampaignInput is a new campaign (API.md "Group-buys").
type CampaignInput struct {
	Title        string
	Description  string
	ProductID    string
	Price        money.Amount
	FundPerUnit  money.Amount
	MinQty       int
	MaxQty       int
	PerPersonMax *int
	Deadline     time.Time
	PickupPoint  string
	PickupFrom   *time.Time
	PickupUntil  *time.Time
	MicroGrid    string
	// LocationID: where joins hold stock of a product that tracks stock
	// (optional; without it the campaign's capacity is its max_qty only).
	LocationID string
	CreatedBy  string
}

// Create opens a campaign in the caller's transaction and schedules its
// settlement at the deadline (a durable job; a periodic sweep backs it up).
func (s *Service) Create(ctx context.Context, tx *sqlx.Tx, communityID string, in CampaignInput) (*Campaign, error) {
	in.Title, in.PickupPoint = strings.TrimSpace(in.Title), strings.TrimSpace(in.PickupPoint)
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > 200:
		return nil, apperr.Field("title", "a title of 1–200 characters is required")
	case utf8.RuneCountInString(in.Description) > 4000:
		return nil, apperr.Field("description", "the description is too long")
	case !orders.ValidID(in.ProductID):
		return nil, apperr.Field("product_id", "product_id is required")
	case !in.Price.IsPositive():
		return nil, apperr.Field("price", "the price must be more than ¥0.00")
	case in.FundPerUnit.IsNegative() || in.FundPerUnit.GreaterThan(in.Price):
		return nil, apperr.Field("fund_per_unit", "the fund share per unit must be between ¥0.00 and the price")
	case in.MinQty <= 0:
		return nil, apperr.Field("min_qty", "min_qty must be a positive whole number")
	case in.MaxQty < in.MinQty || in.MaxQty > 100000:
		return nil, apperr.Field("max_qty", "max_qty must be at least min_qty (and at most 100000)")
	case in.PerPersonMax != nil && *in.PerPersonMax <= 0:
		return nil, apperr.Field("per_person_max", "per_person_max must be a positive whole number")
	case !in.Deadline.After(s.now()):
		return nil, apperr.Field("deadline", "the deadline must be in the future")
	case in.PickupPoint == "" || utf8.RuneCountInString(in.PickupPoint) > 200:
		return nil, apperr.Field("pickup_point", "say where the goods are picked up (1–200 characters)")
	case in.PickupFrom != nil && in.PickupUntil != nil && in.PickupUntil.Before(*in.PickupFrom):
		return nil, apperr.Field("pickup_until", "the pickup window ends before it starts")
	case utf8.RuneCountInString(in.MicroGrid) > 100:
		return nil, apperr.Field("micro_grid", "the micro-grid name is too long")
	}
	p, err := s.Inventory.Product(ctx, tx, communityID, in.ProductID)
	if err != nil {
		return nil, apperr.Field("product_id", "no such product in this community")
	}
	if !p.Active {
		return nil, apperr.Field("product_id", "the product is no longer sold")
	}
	var loc any
	if in.LocationID != "" {
		if _, err := s.Inventory.Location(ctx, tx, communityID, in.LocationID); err != nil {
			return nil, apperr.Field("location_id", "no such location in this community")
		}
		loc = in.LocationID
	}
	var c Campaign
	if err := tx.GetContext(ctx, &c, `INSERT INTO groupbuy_campaigns (community_id, token, title, description, product_id, price, fund_per_unit,
			min_qty, max_qty, per_person_max, deadline, pickup_point, pickup_from, pickup_until, micro_grid, location_id, created_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING `+campaignCols,
		communityID, payment.Token(), in.Title, in.Description, in.ProductID, in.Price, in.FundPerUnit, in.MinQty, in.MaxQty, in.PerPersonMax,
		in.Deadline, in.PickupPoint, in.PickupFrom, in.PickupUntil, strings.TrimSpace(in.MicroGrid), loc, nullable(in.CreatedBy)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO groupbuy_slots (campaign_id, n) SELECT $1, n FROM generate_series(1, $2) AS n`,
		c.ID, c.MaxQty); err != nil {
		return nil, err
	}
	if _, err := jobs.Insert(ctx, tx, SettleArgs{CommunityID: communityID, CampaignID: c.ID},
		&jobs.InsertOpts{ScheduledAt: c.Deadline, MaxAttempts: 50}); err != nil {
		return nil, err
	}
	return &c, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func getCampaign(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Campaign, error) {
	var c Campaign
	err := sqlx.GetContext(ctx, q, &c, `SELECT `+campaignCols+` FROM groupbuy_campaigns WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("group-buy not found")
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Get returns a campaign of the community.
func (s *Service) Get(ctx context.Context, q sqlx.QueryerContext, communityID, id string) (*Campaign, error) {
	if !orders.ValidID(id) {
		return nil, apperr.NotFoundf("group-buy not found")
	}
	return getCampaign(ctx, q, `community_id=$1 AND id=$2`, communityID, id)
}

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22,64}$`)

// ByToken returns the campaign behind a public join link.
func (s *Service) ByToken(ctx context.Context, q sqlx.QueryerContext, token string) (*Campaign, error) {
	if !tokenRe.MatchString(token) {
		return nil, apperr.NotFoundf("group-buy not found")
	}
	return getCampaign(ctx, q, `token=$1`, token)
}

// shareCampaign holds a campaign row FOR SHARE (joins, payments, expiry,
// refunds): many at once, none while it settles.
// Its status is as committed; its held and paid figures are of the
// statement's snapshot (only the settlement needs them exact: lockCampaign).
func shareCampaign(ctx context.Context, tx *sqlx.Tx, id string) (*Campaign, error) {
	return getCampaign(ctx, tx, `id=$1 FOR SHARE`, id)
}

// lockCampaign holds a campaign row FOR UPDATE (the settlement) and reads it
// afresh once every join and payment in flight has committed.
func lockCampaign(ctx context.Context, tx *sqlx.Tx, id string) (*Campaign, error) {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM groupbuy_campaigns WHERE id=$1 FOR UPDATE`, id); err != nil {
		return nil, err
	}
	return getCampaign(ctx, tx, `id=$1`, id)
}

// List returns a community's campaigns, newest first; createdBy limits them
// to one 邻长's.
func (s *Service) List(ctx context.Context, q sqlx.QueryerContext, communityID, createdBy string, limit int) ([]Campaign, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	out := []Campaign{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+campaignCols+` FROM groupbuy_campaigns WHERE community_id=$1
		AND ($2 = '' OR created_by::text = $2) ORDER BY created_at DESC LIMIT $3`, communityID, createdBy, limit)
	return out, err
}

// Participant is a join as everyone sees it on the join page: a masked
// name, the building and the quantity.
type Participant struct {
	Name     string    `json:"name"`
	Building string    `json:"building"`
	Qty      int       `json:"qty"`
	At       time.Time `json:"at"`
}

// Progress is what the join page shows of a campaign.
type Progress struct {
	PaidQty      int           `db:"paid_qty" json:"paid_qty"`
	Participants int           `db:"participants" json:"participants"`
	Recent       []Participant `db:"-" json:"recent"`
}

// ProgressOf reads the paid joins of a campaign (masked, newest first).
func (s *Service) ProgressOf(ctx context.Context, q sqlx.QueryerContext, campaignID string, limit int) (Progress, error) {
	var rows []struct {
		Name     string    `db:"name"`
		Building string    `db:"building"`
		Qty      int       `db:"qty"`
		At       time.Time `db:"paid_at"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT name, building, qty, paid_at FROM groupbuy_joins
		WHERE campaign_id=$1 AND status IN ('paid','confirmed') ORDER BY paid_at DESC, id LIMIT $2`, campaignID, limit); err != nil {
		return Progress{}, err
	}
	var pr Progress
	if err := sqlx.GetContext(ctx, q, &pr, `SELECT COALESCE(sum(qty),0) AS paid_qty, count(*) AS participants FROM groupbuy_joins
		WHERE campaign_id=$1 AND status IN ('paid','confirmed')`, campaignID); err != nil {
		return Progress{}, err
	}
	pr.Recent = make([]Participant, 0, len(rows))
	for _, r := range rows {
		pr.Recent = append(pr.Recent, Participant{Name: MaskName(r.Name), Building: r.Building, Qty: r.Qty, At: r.At})
	}
	return pr, nil
}

// Joins lists a campaign's joins for its 邻长 (by building, then time).
func (s *Service) Joins(ctx context.Context, q sqlx.QueryerContext, campaignID string) ([]Join, error) {
	out := []Join{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+joinCols+` FROM groupbuy_joins WHERE campaign_id=$1
		ORDER BY building, created_at`, campaignID)
	return out, err
}

func getJoin(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*Join, error) {
	var j Join
	err := sqlx.GetContext(ctx, q, &j, `SELECT `+joinCols+` FROM groupbuy_joins WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("join not found")
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// JoinByToken returns a neighbour's join by its private token within a
// campaign.
func (s *Service) JoinByToken(ctx context.Context, q sqlx.QueryerContext, campaignID, token string) (*Join, error) {
	if !tokenRe.MatchString(token) {
		return nil, apperr.NotFoundf("join not found")
	}
	return getJoin(ctx, q, `campaign_id=$1 AND token=$2`, campaignID, token)
}

// JoinOfOrder returns the join behind an order.
func (s *Service) JoinOfOrder(ctx context.Context, q sqlx.QueryerContext, orderID string) (*Join, error) {
	return getJoin(ctx, q, `order_id=$1`, orderID)
}

// CampaignOfID returns a campaign by id alone (callbacks, jobs).
func (s *Service) CampaignOfID(ctx context.Context, q sqlx.QueryerContext, id string) (*Campaign, error) {
	return getCampaign(ctx, q, `id=$1`, id)
}

// Totals are a campaign's figures for its 邻长.
type Totals struct {
	Paid       int          `db:"paid" json:"paid"`
	Pending    int          `db:"pending" json:"pending"`
	PickedUp   int          `db:"picked_up" json:"picked_up"`
	Refunded   int          `db:"refunded" json:"refunded"`
	PaidAmount money.Amount `db:"paid_amount" json:"paid_amount"`
	// Fund is the fund's share of the paid units: posted when the campaign
	// succeeds.
	Fund money.Amount `db:"fund" json:"fund"`
}

// TotalsOf counts a campaign's joins.
func (s *Service) TotalsOf(ctx context.Context, q sqlx.QueryerContext, c *Campaign) (Totals, error) {
	var t Totals
	err := sqlx.GetContext(ctx, q, &t, `SELECT
		count(*) FILTER (WHERE status IN ('paid','confirmed')) AS paid,
		count(*) FILTER (WHERE status = 'pending') AS pending,
		count(*) FILTER (WHERE picked_up_at IS NOT NULL) AS picked_up,
		count(*) FILTER (WHERE status IN ('refunding','refunded','held')) AS refunded,
		COALESCE(sum(amount) FILTER (WHERE status IN ('paid','confirmed')), 0) AS paid_amount,
		COALESCE(sum(qty) FILTER (WHERE status IN ('paid','confirmed')), 0) * $2::numeric AS fund
		FROM groupbuy_joins WHERE campaign_id=$1`, c.ID, c.FundPerUnit)
	return t, err
}
