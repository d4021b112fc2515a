package web

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/db"
	"shelin/orders/payment"
)

// pageGroupBuyProxy is POST /admin/{cid}/groupbuys/{id}/proxy: the 邻长
// records a neighbour who paid cash, from the campaign's page.
func (s *Server) pageGroupBuyProxy(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	qty, _ := strconv.Atoi(c.FormValue("qty"))
	var j *groupbuy.Joined
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		var err error
		j, err = s.gb.Join(c.UserContext(), tx, camp.Token, groupbuy.JoinInput{Name: c.FormValue("name"), Phone: c.FormValue("phone"),
			Building: c.FormValue("building"), Qty: qty, Provider: payment.Cash, ProxyBy: currentUser(c).ID})
		return err
	})
	if err != nil {
		var r *groupbuy.Refusal
		if !errors.As(err, &r) {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderGroupBuy(c, "", s.refusalMessage(lang(c), r))
	}
	return s.renderGroupBuy(c, fmt.Sprintf(s.ui.t(lang(c), "gb.d.proxy_ok"), j.Join.Name, j.Join.Qty, j.Join.PickupCode, j.Join.Amount.Yuan()), "")
}
