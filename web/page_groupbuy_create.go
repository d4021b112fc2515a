package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// pageGroupBuyCreate is POST /admin/{cid}/groupbuys: the one-screen form.
func (s *Server) pageGroupBuyCreate(c *fiber.Ctx) error {
	com := community(c)
	in, err := func() (groupbuy.CampaignInput, error) {
		price, err := money.ParsePositive("price", c.FormValue("price"))
		if err != nil {
			return groupbuy.CampaignInput{}, err
		}
		fundPer, err := money.ParseNonNegative("fund_per_unit", c.FormValue("fund_per_unit"))
		if err != nil {
			return groupbuy.CampaignInput{}, err
		}
		deadline, err := time.ParseInLocation("2006-01-02T15:04", c.FormValue("deadline"), com.Location())
		if err != nil {
			return groupbuy.CampaignInput{}, apperr.Field("deadline", "choose when it closes")
		}
		minQ, _ := strconv.Atoi(c.FormValue("min_qty"))
		maxQ, _ := strconv.Atoi(c.FormValue("max_qty"))
		in := groupbuy.CampaignInput{Title: c.FormValue("title"), Description: c.FormValue("description"), ProductID: strings.Clone(c.FormValue("product_id")),
			Price: price, FundPerUnit: fundPer, MinQty: minQ, MaxQty: maxQ, Deadline: deadline, PickupPoint: c.FormValue("pickup_point"),
			MicroGrid: c.FormValue("micro_grid"), CreatedBy: currentUser(c).ID}
		if pp, err := strconv.Atoi(c.FormValue("per_person_max")); err == nil {
			in.PerPersonMax = &pp
		}
		return in, nil
	}()
	var camp *groupbuy.Campaign
	if err == nil {
		err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
			var err error
			camp, err = s.gb.Create(c.UserContext(), tx, com.ID, in)
			return err
		})
	}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		msg := s.ui.messageOr(lang(c), "gb.f."+e.Field, e.Field)
		return s.renderGroupBuys(c, msg+": "+e.Message)
	}
	return c.Redirect("/admin/"+com.ID+"/groupbuys/"+camp.ID, fiber.StatusSeeOther)
}
