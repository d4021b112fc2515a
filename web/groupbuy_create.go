package web

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

type groupbuyCreateRequest struct {
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	ProductID    string        `json:"product_id"`
	Price        *money.Amount `json:"price"`
	FundPerUnit  *money.Amount `json:"fund_per_unit"`
	MinQty       int           `json:"min_qty"`
	MaxQty       int           `json:"max_qty"`
	PerPersonMax *int          `json:"per_person_max"`
	Deadline     *time.Time    `json:"deadline"`
	PickupPoint  string        `json:"pickup_point"`
	PickupFrom   *time.Time    `json:"pickup_from"`
	PickupUntil  *time.Time    `json:"pickup_until"`
	MicroGrid    string        `json:"micro_grid"`
	LocationID   string        `json:"location_id"`
}

func (r groupbuyCreateRequest) input() (groupbuy.CampaignInput, error) {
	if r.Price == nil {
		return groupbuy.CampaignInput{}, apperr.Field("price", "price is required")
	}
	if r.FundPerUnit == nil {
		return groupbuy.CampaignInput{}, apperr.Field("fund_per_unit", "fund_per_unit is required")
	}
	if r.Deadline == nil {
		return groupbuy.CampaignInput{}, apperr.Field("deadline", "deadline is required")
	}
	return groupbuy.CampaignInput{Title: r.Title, Description: r.Description, ProductID: r.ProductID, Price: *r.Price,
		FundPerUnit: *r.FundPerUnit, MinQty: r.MinQty, MaxQty: r.MaxQty, PerPersonMax: r.PerPersonMax, Deadline: *r.Deadline,
		PickupPoint: r.PickupPoint, PickupFrom: r.PickupFrom, PickupUntil: r.PickupUntil, MicroGrid: r.MicroGrid, LocationID: r.LocationID}, nil
}

// createGroupBuy is POST {c}/groupbuys: a 邻长 or admin opens a campaign.
func (s *Server) createGroupBuy(c *fiber.Ctx) error {
	var req groupbuyCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	in.CreatedBy = currentUser(c).ID
	var out campaignJSON
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		camp, err := s.gb.Create(c.UserContext(), tx, community(c).ID, in)
		if err != nil {
			return err
		}
		out, err = s.campaignView(c.UserContext(), tx, camp)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}
