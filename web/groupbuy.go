package web

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders"
	"shelin/pos"
)

// initGroupBuy wires the group-buy service to the stall's providers, routes
// notifications of group-buy orders to it and adds its invariants to verify.
func (s *Server) initGroupBuy() {
	ps := s.pos.svc
	s.gb = &groupbuy.Service{DB: s.db, Inventory: ps.Inventory, Fund: ps.Fund, Providers: ps.Providers, BaseURL: s.cfg.BaseURL}
	if ps.Channels == nil {
		ps.Channels = map[string]pos.ChannelNotifications{}
	}
	ps.Channels[groupbuy.Channel] = s.gb
	ps.Verifiers = append(ps.Verifiers, s.gb)
	s.gb.RegisterWorkers(s.workers)
	s.periodic = append(s.periodic, s.gb.PeriodicJobs()...)
}

// GroupBuy exposes the group-buy service (demo data, tests, bench).
func (s *Server) GroupBuy() *groupbuy.Service { return s.gb }

// gbURL is a public group-buy link.
func (s *Server) gbURL(parts ...string) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/g/" + strings.Join(parts, "/")
}

// campaignJSON is a campaign as the API shows it.
type campaignJSON struct {
	ID           string       `json:"id"`
	Status       string       `json:"status"`
	Title        string       `json:"title"`
	Description  string       `json:"description"`
	ProductID    string       `json:"product_id"`
	Price        money.Amount `json:"price"`
	FundPerUnit  money.Amount `json:"fund_per_unit"`
	MinQty       int          `json:"min_qty"`
	MaxQty       int          `json:"max_qty"`
	PerPersonMax *int         `json:"per_person_max"`
	Deadline     time.Time    `json:"deadline"`
	PickupPoint  string       `json:"pickup_point"`
	PickupFrom   *time.Time   `json:"pickup_from"`
	PickupUntil  *time.Time   `json:"pickup_until"`
	MicroGrid    string       `json:"micro_grid"`
	PaidQty      int          `json:"paid_qty"`
	HeldQty      int          `json:"held_qty"`
	Participants int          `json:"participants"`
	JoinURL      string       `json:"join_url"`
	PosterURL    string       `json:"poster_url"`
	CreatedAt    time.Time    `json:"created_at"`
	SettledAt    *time.Time   `json:"settled_at"`
	// Fund is the fund's share of the paid units (posted when it succeeds).
	Fund   money.Amount     `json:"fund"`
	Totals *groupbuy.Totals `json:"totals,omitempty"`
}

func (s *Server) campaignView(ctx context.Context, q sqlx.QueryerContext, c *groupbuy.Campaign) (campaignJSON, error) {
	t, err := s.gb.TotalsOf(ctx, q, c)
	if err != nil {
		return campaignJSON{}, err
	}
	return campaignJSON{ID: c.ID, Status: c.Status, Title: c.Title, Description: c.Description, ProductID: c.ProductID, Price: c.Price,
		FundPerUnit: c.FundPerUnit, MinQty: c.MinQty, MaxQty: c.MaxQty, PerPersonMax: c.PerPersonMax, Deadline: c.Deadline,
		PickupPoint: c.PickupPoint, PickupFrom: c.PickupFrom, PickupUntil: c.PickupUntil, MicroGrid: c.MicroGrid, PaidQty: c.PaidQty,
		HeldQty: c.HeldQty, Participants: t.Paid, JoinURL: s.gbURL(c.Token), PosterURL: s.gbURL(c.Token, "poster"),
		CreatedAt: c.CreatedAt, SettledAt: c.SettledAt, Fund: t.Fund, Totals: &t}, nil
}

// joinJSON is a join as the neighbour (or the API client that made it) sees it.
type joinJSON struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"`
	Qty        int          `json:"qty"`
	Amount     money.Amount `json:"amount"`
	Name       string       `json:"name"`
	Phone      string       `json:"phone"` // masked
	Building   string       `json:"building"`
	Payment    salePayment  `json:"payment"`
	PickupCode string       `json:"pickup_code,omitempty"`
	PickedUpAt *time.Time   `json:"picked_up_at,omitempty"`
	ExpiresAt  time.Time    `json:"expires_at"`
	URL        string       `json:"url"` // the neighbour's own page (pickup code)
	Campaign   string       `json:"campaign_status"`
}

// showCode reports whether a join's pickup code is shown: once paid.
func showCode(status string) bool {
	return status == groupbuy.JoinPaid || status == groupbuy.JoinConfirmed
}

func (s *Server) joinView(c *groupbuy.Campaign, j *groupbuy.Join, p *orders.Payment) joinJSON {
	v := joinJSON{ID: j.ID, Status: j.Status, Qty: j.Qty, Amount: j.Amount, Name: j.Name, Phone: groupbuy.MaskPhone(j.Phone),
		Building: j.Building, ExpiresAt: j.ExpiresAt, URL: s.gbURL(c.Token, "j", j.Token), PickedUpAt: j.PickedUpAt, Campaign: c.Status,
		Payment: salePayment{ID: p.ID, Method: p.Method, Provider: p.Provider, Status: p.Status, MerchantRef: p.MerchantRef,
			QRPayload: p.QRPayload, ExpiresAt: p.ExpiresAt, Flagged: p.Flagged}}
	if p.QRPayload != nil {
		v.Payment.QRImageURL = s.gbURL(c.Token, "j", j.Token, "pay.svg")
	}
	if showCode(j.Status) {
		v.PickupCode = j.PickupCode
	}
	return v
}

// campaignOf reads a campaign of the route's community; a 邻长 sees only
// the campaigns they created.
func (s *Server) campaignOf(c *fiber.Ctx, q sqlx.QueryerContext) (*groupbuy.Campaign, error) {
	camp, err := s.gb.Get(c.UserContext(), q, community(c).ID, c.Params("id"))
	if err != nil {
		return nil, err
	}
	if u := currentUser(c); u.Role == identity.Leader && (camp.CreatedBy == nil || *camp.CreatedBy != u.ID) {
		return nil, apperr.NotFoundf("group-buy not found")
	}
	return camp, nil
}

// earmarksPerUnit splits a campaign's fund share of one unit by the
// community's current rules (what the join page shows).
func (s *Server) earmarksPerUnit(ctx context.Context, cid string, amount money.Amount) []fund.EarmarkPart {
	rules, err := s.pos.svc.Fund.CurrentRules(ctx, s.db, cid)
	if err != nil || len(rules.Earmarks) == 0 {
		return nil
	}
	weights := make([]decimal.Decimal, len(rules.Earmarks))
	for i, e := range rules.Earmarks {
		weights[i] = e.Percent
	}
	split := money.Split(amount, weights)
	out := make([]fund.EarmarkPart, 0, len(split))
	for i, a := range split {
		out = append(out, fund.EarmarkPart{Name: rules.Earmarks[i].Name, Amount: a})
	}
	return out
}

// The 邻长's home page starts with their group-buys; admins and treasurers
// find them too.
func init() {
	gb := homeLink{"home.groupbuys", "/admin/{cid}/groupbuys", "home.groupbuys.hint"}
	homeLinks[identity.Leader] = append([]homeLink{gb}, homeLinks[identity.Leader]...)
	homeLinks[identity.Admin] = append(homeLinks[identity.Admin], gb)
	homeLinks[identity.Treasurer] = append(homeLinks[identity.Treasurer], gb)
}
