package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// listPaymentSettings is GET {c}/payment-settings: the community's WeChat
// Pay and Alipay accounts (identifiers only, never a secret), the webhook
// URLs to enter at the providers, and the last "test connection" result.
func (s *Server) listPaymentSettings(c *fiber.Ctx) error {
	cid := community(c).ID
	ms, err := s.pos.merchants.List(c.UserContext(), cid)
	if err != nil {
		return err
	}
	items := make([]merchantJSON, 0, len(ms))
	for _, m := range ms {
		items = append(items, merchantView(m))
	}
	hooks := strings.TrimRight(s.cfg.BaseURL, "/") + "/api/v1/webhooks/"
	return c.JSON(fiber.Map{"items": items, "webhooks": fiber.Map{"wechatpay": hooks + "wechatpay", "alipay": hooks + "alipay"}})
}
