package pos

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// ApprovalTTL is how long an approval token works after the second person
// entered their PIN.
const ApprovalTTL = 10 * time.Minute

// approvalTokenPrefix marks approval tokens so that one pasted in the wrong
// place is recognised; 16 random bytes (128 bits) follow it.
const approvalTokenPrefix = "apv_"

// ApprovalRequest is a second person's PIN given for an action that the
// signed-in RequestedBy is about to take.
type ApprovalRequest struct {
	Action      string // ActionDiscount or ActionRefund
	RequestedBy string // the signed-in person asking
	UserID      string // the second person
	PIN         string
	DeviceID    string // the tablet it was entered on, if any
}

// Approval is an issued approval token. Token is shown once; only its
// SHA-256 hash is stored.
type Approval struct {
	Token       string    `json:"approval_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Action      string    `json:"action"`
	ApproverID  string    `json:"-"`
	DisplayName string    `json:"-"`
}

// Approvable actions: the ones a token can be issued for.
var approvable = map[string]bool{ActionDiscount: true, ActionRefund: true}

// IssueApproval checks the second person's PIN with the rules of Approve
// (someone else, a volunteer, treasurer or admin, the per-person PIN
// throttle and lock) and returns a single-use token bound to the community,
// the action and both people, valid ApprovalTTL. The PIN is not stored.
func (s *Service) IssueApproval(ctx context.Context, communityID string, r ApprovalRequest) (*Approval, error) {
	if !approvable[r.Action] {
		return nil, apperr.Field("action", "action must be discount or refund")
	}
	if strings.TrimSpace(r.UserID) == "" {
		return nil, apperr.Field("user_id", "choose the second person who approves")
	}
	if r.UserID == r.RequestedBy {
		return nil, apperr.Field("user_id", "the second PIN must be someone else's")
	}
	if r.PIN == "" {
		return nil, apperr.Field("pin", "the second person enters their PIN")
	}
	u, err := s.Approve(ctx, communityID, r.RequestedBy, Approver{UserID: r.UserID, PIN: r.PIN})
	if err != nil {
		if e, ok := apperr.As(err); ok {
			switch e.Field {
			case "approver.user_id":
				return nil, e.WithField("user_id")
			case "approver":
				return nil, e.WithField("pin")
			}
		}
		return nil, err
	}
	token := approvalTokenPrefix + randomToken(16)
	a := &Approval{Token: token, Action: r.Action, ApproverID: u.ID, DisplayName: u.DisplayName}
	if a.DisplayName == "" {
		a.DisplayName = u.Login
	}
	// The token and its audit row (who asked, who approved, never the
	// token or the PIN) are written together.
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var row struct {
			ID        string    `db:"id"`
			ExpiresAt time.Time `db:"expires_at"`
		}
		if err := tx.GetContext(ctx, &row, `INSERT INTO pos_approval_tokens
			(community_id, action, token_hash, requested_by, approved_by, device_id, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6, now() + make_interval(secs => $7)) RETURNING id, expires_at`,
			communityID, r.Action, hash(token), r.RequestedBy, u.ID, nullable(r.DeviceID), ApprovalTTL.Seconds()); err != nil {
			return err
		}
		a.ExpiresAt = row.ExpiresAt
		return identity.Audit(ctx, tx, identity.AuditEntry{CommunityID: communityID, UserID: r.RequestedBy, Action: "approve",
			Entity: "approval", EntityID: row.ID, After: map[string]any{"action": r.Action, "requested_by": r.RequestedBy,
				"approved_by": u.ID, "device_id": r.DeviceID, "expires_at": row.ExpiresAt}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ConsumeApproval uses an approval token in the transaction of the write it
// approves and returns the approver's user id. The token must have been
// issued in this community, for this action, to requestedBy, be unexpired
// and unused; anything else is an invalid approval_token (422). Because it
// is marked used in tx, a write that rolls back leaves the token unused.
func ConsumeApproval(ctx context.Context, tx *sqlx.Tx, communityID, requestedBy, action, token string) (string, error) {
	if token == "" {
		return "", apperr.Field("approval_token", "a second person's approval is needed: exchange their PIN at POST /api/v1/communities/{cid}/approvals and send the approval_token")
	}
	if !strings.HasPrefix(token, approvalTokenPrefix) || len(token) > 100 {
		return "", apperr.Field("approval_token", "this approval token is not valid")
	}
	var row struct {
		ID          string     `db:"id"`
		CommunityID string     `db:"community_id"`
		Action      string     `db:"action"`
		RequestedBy string     `db:"requested_by"`
		ApprovedBy  string     `db:"approved_by"`
		UsedAt      *time.Time `db:"used_at"`
		Expired     bool       `db:"expired"`
	}
	// FOR UPDATE: two writes racing for one token serialize here; the
	// second sees it used.
	err := tx.GetContext(ctx, &row, `SELECT id, community_id, action, requested_by, approved_by, used_at, expires_at <= now() AS expired
		FROM pos_approval_tokens WHERE token_hash=$1 FOR UPDATE`, hash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.Field("approval_token", "this approval token is not valid")
	}
	if err != nil {
		return "", err
	}
	switch {
	case row.CommunityID != communityID:
		return "", apperr.Field("approval_token", "this approval token is not valid")
	case row.UsedAt != nil:
		return "", apperr.Field("approval_token", "this approval was already used; ask the second person to approve again")
	case row.Expired:
		return "", apperr.Field("approval_token", "this approval has expired (it lasts %d minutes); ask the second person to approve again", int(ApprovalTTL.Minutes()))
	case row.Action != action:
		return "", apperr.Field("approval_token", "this approval is for a %s, not a %s", row.Action, action)
	case row.RequestedBy != requestedBy:
		return "", apperr.Field("approval_token", "this approval was given to someone else")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pos_approval_tokens SET used_at=now() WHERE id=$1`, row.ID); err != nil {
		return "", err
	}
	return row.ApprovedBy, nil
}
