package web

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/identity"
)

type joinCreateRequest struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Building string `json:"building"`
	Qty      int    `json:"qty"`
	Provider string `json:"provider"`
}

// createGroupBuyJoin is POST /api/v1/groupbuys/{token}/joins (idempotent,
// no sign-in): a neighbour joins and gets a payment to settle.
func (s *Server) createGroupBuyJoin(c *fiber.Ctx) error {
	var req joinCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	token := strings.Clone(c.Params("token"))
	// Idempotency keys are scoped per community (API.md): the campaign's.
	camp, err := s.gb.ByToken(c.UserContext(), s.db, token)
	if err != nil {
		return err
	}
	c.Locals("community", identity.Community{ID: camp.CommunityID})
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		res, err := s.gb.Join(c.UserContext(), tx, token, groupbuy.JoinInput{Name: req.Name, Phone: req.Phone, Building: req.Building,
			Qty: req.Qty, Provider: req.Provider})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.joinView(res.Campaign, res.Join, res.Payment), nil
	})
}
