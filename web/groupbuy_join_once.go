package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/groupbuy"
	"shelin/internal/idem"
)

// joinOnce joins a campaign at most once per key (the join page's form
// key): a repeat answers the first join.
func (s *Server) joinOnce(c *fiber.Ctx, token, key string, req joinCreateRequest) (joinJSON, error) {
	token = strings.Clone(token)
	body, err := json.Marshal(req)
	if err != nil {
		return joinJSON{}, err
	}
	res, err := idem.Do(c.UserContext(), s.db, "groupbuy:"+token, key, idem.Hash([]byte(token), body), func(tx *sqlx.Tx) (int, []byte, error) {
		j, err := s.gb.Join(c.UserContext(), tx, token, groupbuy.JoinInput{Name: req.Name, Phone: req.Phone, Building: req.Building,
			Qty: req.Qty, Provider: req.Provider})
		if err != nil {
			return 0, nil, err
		}
		b, err := json.Marshal(s.joinView(j.Campaign, j.Join, j.Payment))
		return http.StatusCreated, b, err
	})
	if err != nil {
		return joinJSON{}, err
	}
	var v joinJSON
	return v, json.Unmarshal(res.Body, &v)
}
