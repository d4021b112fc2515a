package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/orders"
	"shelin/pos"
)

type refundCreateRequest struct {
	Lines         []orders.RefundItem `json:"lines"`
	Reason        string              `json:"reason"`
	Restock       *bool               `json:"restock"`
	ApprovalToken string              `json:"approval_token"`
	Approver      json.RawMessage     `json:"approver"` // refused: the old inline PIN
}

// createRefund is POST {c}/sales/{id}/refunds (idempotent): a refund by
// lines, approved by a second person through an approval token from
// POST {c}/approvals (action refund). The Idempotency-Key is looked up
// first, so a replay answers the first refund even after the token was used.
func (s *Server) createRefund(c *fiber.Ctx) error {
	var req refundCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := refuseInlineApprover(req.Approver); err != nil {
		return err
	}
	restock := req.Restock == nil || *req.Restock
	cid, id, user := community(c).ID, strings.Clone(c.Params("id")), currentUser(c)
	// A volunteer needs a second person's approval; an admin (signed in with
	// a password) approves by their own authority unless they bring one.
	manager := user.Role == identity.Admin || user.Role == identity.PlatformAdmin
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		approverID := ""
		if !manager || req.ApprovalToken != "" {
			var err error
			if approverID, err = pos.ConsumeApproval(c.UserContext(), tx, cid, user.ID, pos.ActionRefund, req.ApprovalToken); err != nil {
				return 0, nil, err
			}
		}
		r, err := s.pos.svc.Refund(c.UserContext(), tx, cid, id, pos.RefundInput{Items: req.Lines, Reason: req.Reason, Restock: restock,
			UserID: user.ID, ApproverID: approverID, ByManager: manager})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, fiber.Map{"id": r.ID, "amount": r.Amount, "status": r.Status, "restock": r.Restock, "lines": r.Lines}, nil
	})
}
