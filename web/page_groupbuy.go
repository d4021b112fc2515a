package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/db"
)

// pageGroupBuy is GET /admin/{cid}/groupbuys/{id}: one campaign for its
// 邻长 — figures, joins by building (a printable checklist), settle,
// pickups.
func (s *Server) pageGroupBuy(c *fiber.Ctx) error { return s.renderGroupBuy(c, "", "") }

func (s *Server) renderGroupBuy(c *fiber.Ctx, msg, errMsg string) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	v, err := s.campaignView(c.UserContext(), s.db, camp)
	if err != nil {
		return err
	}
	js, err := s.gb.Joins(c.UserContext(), s.db, camp.ID)
	if err != nil {
		return err
	}
	t := camp.Deadline.In(community(c).Location())
	u := currentUser(c)
	return s.render(c, "gb_detail", "gb.list.title", fiber.Map{"CID": community(c).ID, "C": v, "Joins": leaderJoins(js),
		"Deadline": formatDate(lang(c), t) + " " + t.Format("15:04"), "Message": msg, "Error": errMsg,
		"CanAct": u.Role != identity.Treasurer})
}

// pageGroupBuySettle is POST /admin/{cid}/groupbuys/{id}/settle.
func (s *Server) pageGroupBuySettle(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	res, err := s.gb.Settle(c.UserContext(), camp.CommunityID, camp.ID)
	if err != nil {
		return err
	}
	return s.renderGroupBuy(c, fmt.Sprintf(s.ui.t(lang(c), "gb.d.settled"), s.ui.t(lang(c), "gb.status."+res.Campaign.Status)), "")
}

// pageGroupBuyPickup is POST /admin/{cid}/groupbuys/{id}/pickup: the
// station checks a code once.
func (s *Server) pageGroupBuyPickup(c *fiber.Ctx) error {
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	var j *groupbuy.Join
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error {
		var err error
		j, err = s.gb.Pickup(c.UserContext(), tx, camp.CommunityID, camp.ID, c.FormValue("code"), currentUser(c).ID, c.FormValue("for"))
		return err
	})
	if err != nil {
		var r *groupbuy.Refusal
		if !errors.As(err, &r) {
			return err
		}
		c.Status(fiber.StatusConflict)
		return s.renderGroupBuy(c, "", s.refusalMessage(lang(c), r))
	}
	return s.renderGroupBuy(c, fmt.Sprintf(s.ui.t(lang(c), "gb.d.pickup_ok"), j.Name, j.Qty), "")
}
