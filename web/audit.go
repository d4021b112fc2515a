package web

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/db"
)

// auditWrite records a successful signed-in write that its area did not
// audit itself: who, which route, when, and the response as the after state.
// Areas that record before/after in their own transaction (identity) are
// skipped by listing them in selfAudited.
func (s *Server) auditWrite(c *fiber.Ctx, r route) {
	if safeMethod(r.Method) || selfAudited[r.Path] || c.Response().StatusCode() >= 400 {
		return
	}
	sess, ok := session(c)
	if !ok {
		return
	}
	var after any
	body := c.Response().Body()
	if len(body) > 0 && len(body) < 64<<10 && json.Valid(body) && c.GetRespHeader(fiber.HeaderContentType) != "" &&
		strings.Contains(c.GetRespHeader(fiber.HeaderContentType), "json") {
		after = json.RawMessage(append([]byte(nil), body...))
	}
	entityID := ""
	var ref struct {
		ID string `json:"id"`
	}
	if after != nil && json.Unmarshal(body, &ref) == nil {
		entityID = ref.ID
	}
	e := identity.AuditEntry{CommunityID: community(c).ID, UserID: sess.User.ID, Action: r.Method, Entity: r.Path, EntityID: entityID, After: after}
	err := db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) error { return identity.Audit(c.UserContext(), tx, e) })
	if err != nil {
		s.log.Error("audit", "request_id", requestID(c), "err", err)
	}
}

// selfAudited routes write their own audit rows with before/after states.
var selfAudited = map[string]bool{
	"/api/v1/sessions":                     true,
	"/api/v1/sessions/current":             true,
	"/api/v1/communities":                  true,
	"/api/v1/communities/:cid/users":       true,
	"/api/v1/communities/:cid/grids":       true,
	"/api/v1/communities/:cid/micro-grids": true,
	"/api/v1/communities/:cid/approvals":   true, // pos writes it; the answer holds a token that must not be kept
	"/login":                               true,
	"/logout":                              true,
}
