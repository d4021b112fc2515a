package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
)

// completeSuspense is POST {c}/suspense/{id}/complete (Idempotency-Key):
// complete the sale of held money when the amount is the sale's and its
// stock is still there (insufficient_stock otherwise).
func (s *Server) completeSuspense(c *fiber.Ctx) error {
	cid, id, user := community(c).ID, param(c, "id"), currentUser(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		sale, err := s.pos.svc.CompleteHeld(c.UserContext(), tx, cid, id, user.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.saleView(sale), nil
	})
}
