package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/internal/money"
)

// publicCampaign is what anyone with the link sees of a campaign.
type publicCampaign struct {
	Title        string                 `json:"title"`
	Description  string                 `json:"description"`
	Status       string                 `json:"status"`
	Price        money.Amount           `json:"price"`
	FundPerUnit  money.Amount           `json:"fund_per_unit"`
	Earmarks     []fund.EarmarkPart     `json:"earmarks"`
	MinQty       int                    `json:"min_qty"`
	MaxQty       int                    `json:"max_qty"`
	Left         int                    `json:"left"`
	PerPersonMax *int                   `json:"per_person_max"`
	Deadline     time.Time              `json:"deadline"`
	PickupPoint  string                 `json:"pickup_point"`
	PickupFrom   *time.Time             `json:"pickup_from"`
	PickupUntil  *time.Time             `json:"pickup_until"`
	PaidQty      int                    `json:"paid_qty"`
	Participants int                    `json:"participants"`
	Recent       []groupbuy.Participant `json:"recent"`
	Providers    []string               `json:"providers"`
	// ImageURL is the product's picture, if it has one.
	ImageURL string `json:"image_url,omitempty"`
}

func (s *Server) publicCampaignOf(c *fiber.Ctx, camp *groupbuy.Campaign) (publicCampaign, error) {
	pr, err := s.gb.ProgressOf(c.UserContext(), s.db, camp.ID, 50)
	if err != nil {
		return publicCampaign{}, err
	}
	var provs []string
	for _, n := range s.pos.svc.Providers.Names() {
		if n == "sandbox" || n == "wechatpay" || n == "alipay" {
			provs = append(provs, n)
		}
	}
	img := ""
	if p, err := s.inv.Product(c.UserContext(), s.db, camp.CommunityID, camp.ProductID); err == nil && p.ImageHash != nil {
		img = "/img/" + *p.ImageHash
	}
	return publicCampaign{ImageURL: img, Title: camp.Title, Description: camp.Description, Status: camp.Status, Price: camp.Price,
		FundPerUnit: camp.FundPerUnit, Earmarks: s.earmarksPerUnit(c.UserContext(), camp.CommunityID, camp.FundPerUnit),
		MinQty: camp.MinQty, MaxQty: camp.MaxQty, Left: camp.Left(), PerPersonMax: camp.PerPersonMax, Deadline: camp.Deadline,
		PickupPoint: camp.PickupPoint, PickupFrom: camp.PickupFrom, PickupUntil: camp.PickupUntil, PaidQty: pr.PaidQty,
		Participants: pr.Participants, Recent: pr.Recent, Providers: provs}, nil
}

// getPublicGroupBuy is GET /api/v1/groupbuys/{token}: the deal and its live
// progress (masked names), for the join page.
func (s *Server) getPublicGroupBuy(c *fiber.Ctx) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	v, err := s.publicCampaignOf(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
