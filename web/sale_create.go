package web

import (
	"encoding/json"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/pos"
)

type saleCreateRequest struct {
	LocationID string         `json:"location_id"`
	Lines      []pos.SaleLine `json:"lines"`
	Payment    struct {
		Method   string        `json:"method"`
		Provider string        `json:"provider"`
		Tendered *money.Amount `json:"tendered"`
	} `json:"payment"`
	// Discount off the whole sale, approved by a second person: the token
	// from POST {c}/approvals (action discount), never their PIN.
	Discount      *money.Amount   `json:"discount"`
	ApprovalToken string          `json:"approval_token"`
	Approver      json.RawMessage `json:"approver"` // refused: the old inline PIN
}

// createSale is POST {c}/sales (idempotent): checkout at a stall. The
// Idempotency-Key is looked up first, so a replay of the same key and body
// answers the first sale even after its approval token was used or expired;
// the token is used in the sale's own transaction.
func (s *Server) createSale(c *fiber.Ctx) error {
	var req saleCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := refuseInlineApprover(req.Approver); err != nil {
		return err
	}
	if req.LocationID == "" {
		return apperr.Field("location_id", "location_id is required")
	}
	discounted := req.Discount != nil && !req.Discount.IsZero()
	if !discounted && req.ApprovalToken != "" {
		return apperr.Field("approval_token", "only a discounted sale carries an approval token")
	}
	cid, user, dev := community(c).ID, currentUser(c), s.deviceID(c)
	defer s.createRemoteQR(c, cid)
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		approverID := ""
		if discounted {
			var err error
			if approverID, err = pos.ConsumeApproval(c.UserContext(), tx, cid, user.ID, pos.ActionDiscount, req.ApprovalToken); err != nil {
				return 0, nil, err
			}
		}
		sale, err := s.pos.svc.Checkout(c.UserContext(), tx, cid, pos.CheckoutInput{LocationID: req.LocationID, DeviceID: dev, UserID: user.ID,
			Lines: req.Lines, Method: req.Payment.Method, Provider: req.Payment.Provider, Tendered: req.Payment.Tendered,
			Discount: req.Discount, ApproverID: approverID})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.saleView(sale), nil
	})
}
