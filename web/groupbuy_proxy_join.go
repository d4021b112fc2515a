package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/orders/payment"
)

type proxyJoinRequest struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Building string `json:"building"`
	Qty      int    `json:"qty"`
}

// createProxyJoin is POST {c}/groupbuys/{id}/proxy-joins (idempotent): the
// 邻长 records a neighbour without a smartphone who paid them in cash. The
// join is paid at once; the cash is owed by the 邻长 (contributions:cash)
// until handed to the treasurer.
func (s *Server) createProxyJoin(c *fiber.Ctx) error {
	var req proxyJoinRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	camp, err := s.campaignOf(c, s.db)
	if err != nil {
		return err
	}
	by := currentUser(c).ID
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		j, err := s.gb.Join(c.UserContext(), tx, camp.Token, groupbuy.JoinInput{Name: req.Name, Phone: req.Phone, Building: req.Building,
			Qty: req.Qty, Provider: payment.Cash, ProxyBy: by})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.joinView(j.Campaign, j.Join, j.Payment), nil
	})
}
