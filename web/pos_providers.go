package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// posProviders is GET {c}/pos/providers: the QR providers the tablet can
// offer in this community — WeChat Pay and Alipay once an admin set their
// accounts up, the sandbox when it is on.
func (s *Server) posProviders(c *fiber.Ctx) error {
	ms, err := s.pos.merchants.List(c.UserContext(), community(c).ID)
	if err != nil {
		return err
	}
	out := []string{}
	for _, m := range ms {
		if m.Provider == payment.WeChatPay || m.Provider == payment.Alipay {
			out = append(out, m.Provider)
		}
	}
	if s.pos.sandbox != nil {
		out = append(out, payment.Sandbox)
	}
	return c.JSON(fiber.Map{"providers": out})
}
