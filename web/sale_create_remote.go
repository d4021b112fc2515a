package web

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// createRemoteQR is the second step of a WeChat Pay or Alipay sale (the
// create outbox, pos/providers.go): once the sale's transaction committed,
// this request asks the provider for the QR and answers the sale with it.
// If the provider cannot be reached the sale is answered as it is (without
// qr_payload) and the durable job creates the QR; the tablet gets it over
// the sale's event stream. A provider's refusal ends the sale and is
// answered as the error it is.
func (s *Server) createRemoteQR(c *fiber.Ctx, cid string) {
	if c.Response().StatusCode() != fiber.StatusCreated {
		return
	}
	var sale struct {
		ID      string `json:"id"`
		Payment struct {
			ID        string  `json:"id"`
			Provider  string  `json:"provider"`
			QRPayload *string `json:"qr_payload"`
		} `json:"payment"`
	}
	if json.Unmarshal(c.Response().Body(), &sale) != nil || sale.Payment.QRPayload != nil {
		return
	}
	if sale.Payment.Provider != "wechatpay" && sale.Payment.Provider != "alipay" {
		return
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 8*time.Second)
	defer cancel()
	err := s.pos.svc.CreateRemotePayment(ctx, cid, sale.Payment.ID)
	if err != nil {
		if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid) {
			_ = s.handleError(c, apperr.Conflictf("the payment provider refused this payment: %v", err))
			return
		}
		s.log.Warn("create payment at provider; the job will retry", "sale", sale.ID, "request_id", requestID(c), "err", err)
		return
	}
	v, err := s.saleOf(c.UserContext(), s.db, cid, sale.ID)
	if err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	c.Response().SetBody(b)
}
