package web

import (
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
	// Discount off the whole sale, approved by a second person's PIN.
	Discount *money.Amount `json:"discount"`
	Approver pos.Approver  `json:"approver"`
}

// createSale is POST {c}/sales (idempotent): checkout at a stall.
func (s *Server) createSale(c *fiber.Ctx) error {
	var req saleCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.LocationID == "" {
		return apperr.Field("location_id", "location_id is required")
	}
	cid, user, dev := community(c).ID, currentUser(c), s.deviceID(c)
	approverID := ""
	if req.Discount != nil && !req.Discount.IsZero() {
		approver, err := s.pos.svc.Approve(c.UserContext(), cid, user.ID, req.Approver)
		if err != nil {
			return err
		}
		approverID = approver.ID
	}
	return s.idempotent(c, func(tx *sqlx.Tx) (int, any, error) {
		sale, err := s.pos.svc.Checkout(c.UserContext(), tx, cid, pos.CheckoutInput{LocationID: req.LocationID, DeviceID: dev, UserID: user.ID,
			Lines: req.Lines, Method: req.Payment.Method, Provider: req.Payment.Provider, Tendered: req.Payment.Tendered,
			Discount: req.Discount, ApproverID: approverID})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.saleView(sale), nil
	})
}
