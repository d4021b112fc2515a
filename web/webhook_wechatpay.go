package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// wechatpayWebhook is POST /api/v1/webhooks/wechatpay: WeChat Pay v3
// payment (TRANSACTION.SUCCESS) and refund (REFUND.*) notifications,
// verified (Wechatpay-Signature, 5-minute timestamp) and decrypted with the
// merchant's APIv3 key. Refused → 400 {"code":"FAIL"}, WeChat retries;
// handled or repeated → 200 {"code":"SUCCESS"}.
func (s *Server) wechatpayWebhook(c *fiber.Ctx) error {
	return s.providerNotification(c, payment.WeChatPay)
}
