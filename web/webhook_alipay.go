package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// alipayWebhook is POST /api/v1/webhooks/alipay: Alipay's asynchronous
// notifications (a form signed RSA2), answered with the text success (or
// fail, and Alipay retries).
func (s *Server) alipayWebhook(c *fiber.Ctx) error {
	return s.providerNotification(c, payment.Alipay)
}
