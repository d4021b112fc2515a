package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/money"
	"shelin/reconcile"
)

type resolveRequest struct {
	IssueKey   string        `json:"issue_key"`
	Action     string        `json:"action"` // resolved, acknowledged
	Note       string        `json:"note"`
	Adjustment *money.Amount `json:"adjustment"` // signed: money found (+) or lost (−)
	Account    string        `json:"account"`    // bank (default) or cash_drawer:<location id>
}

// resolveIssue is POST {c}/days/{date}/issues: the treasurer's word on one
// issue, with an adjustment entry when money moved.
func (s *Server) resolveIssue(c *fiber.Ctx) error {
	date, err := dayParam(c)
	if err != nil {
		return err
	}
	var req resolveRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r := reconcile.Resolution{CommunityID: community(c).ID, Day: date, IssueKey: req.IssueKey, Action: req.Action, Note: req.Note,
		Account: req.Account, UserID: currentUser(c).ID}
	if req.Adjustment != nil {
		r.Adjustment = *req.Adjustment
	}
	if err := s.rec.Resolve(c.UserContext(), r); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"issue_key": req.IssueKey, "status": req.Action})
}
