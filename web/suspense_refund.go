package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
)

// refundSuspense is POST {c}/suspense/{id}/refund (Idempotency-Key): give
// held money back to the customer through its provider (the outbox calls
// the provider; a static 收款码 payment is handed back at once).
func (s *Server) refundSuspense(c *fiber.Ctx) error {
	cid, id, user := community(c).ID, param(c, "id"), currentUser(c)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		item, err := s.pos.svc.RefundHeld(c.UserContext(), tx, cid, id, user.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, item, nil
	})
}
