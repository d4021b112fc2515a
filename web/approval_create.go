package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/pos"
)

type approvalCreateRequest struct {
	Action string `json:"action"`
	UserID string `json:"user_id"`
	PIN    string `json:"pin"`
}

type approvalCreateResponse struct {
	ApprovalToken string    `json:"approval_token"`
	ExpiresAt     time.Time `json:"expires_at"`
	Action        string    `json:"action"`
	Approver      struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	} `json:"approver"`
}

// createApproval is POST {c}/approvals {"action":"discount"|"refund",
// "user_id","pin"}: a second person enters their PIN for what the signed-in
// person is about to do, and gets back a single-use approval token (valid
// 10 minutes) that the discounted sale or the refund carries instead of the
// PIN. Only the token's hash is stored, and the response is not audited
// (IssueApproval writes its own audit row without it).
func (s *Server) createApproval(c *fiber.Ctx) error {
	var req approvalCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	a, err := s.pos.svc.IssueApproval(c.UserContext(), community(c).ID, pos.ApprovalRequest{Action: req.Action,
		RequestedBy: currentUser(c).ID, UserID: req.UserID, PIN: req.PIN, DeviceID: s.deviceID(c)})
	if err != nil {
		return err
	}
	var out approvalCreateResponse
	out.ApprovalToken, out.ExpiresAt, out.Action = a.Token, a.ExpiresAt, a.Action
	out.Approver.ID, out.Approver.DisplayName = a.ApproverID, a.DisplayName
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(out)
}

// refuseInlineApprover refuses a write that still carries a second person's
// PIN ("approver":{"user_id","pin"}, the old way): the PIN must never reach
// the request hash or the idempotency record, so the client exchanges it at
// POST {c}/approvals and sends the approval_token instead.
func refuseInlineApprover(raw json.RawMessage) error {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return apperr.Field("approver", "a second person's PIN is no longer sent with the sale or refund: exchange it at POST /api/v1/communities/{cid}/approvals and send the approval_token it returns")
}
