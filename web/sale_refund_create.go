package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/orders"
	"shelin/pos"
)

type refundCreateRequest struct {
	Lines    []orders.RefundItem `json:"lines"`
	Reason   string              `json:"reason"`
	Restock  *bool               `json:"restock"`
	Approver pos.Approver        `json:"approver"`
}

// createRefund is POST {c}/sales/{id}/refunds (idempotent): a refund by
// lines, approved with a second person's PIN ("approver":{"user_id","pin"}).
func (s *Server) createRefund(c *fiber.Ctx) error {
	var req refundCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	restock := req.Restock == nil || *req.Restock
	cid, id, user := community(c).ID, c.Params("id"), currentUser(c)
	// A volunteer needs a second person's PIN; an admin (signed in with a
	// password) approves by their own authority unless they name someone.
	manager := user.Role == identity.Admin || user.Role == identity.PlatformAdmin
	approverID := ""
	if !manager || req.Approver.UserID != "" {
		approver, err := s.pos.svc.Approve(c.UserContext(), cid, user.ID, req.Approver)
		if err != nil {
			return err
		}
		approverID = approver.ID
	}
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		r, err := s.pos.svc.Refund(c.UserContext(), tx, cid, id, pos.RefundInput{Items: req.Lines, Reason: req.Reason, Restock: restock,
			UserID: user.ID, ApproverID: approverID, ByManager: manager})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, fiber.Map{"id": r.ID, "amount": r.Amount, "status": r.Status, "restock": r.Restock, "lines": r.Lines}, nil
	})
}
