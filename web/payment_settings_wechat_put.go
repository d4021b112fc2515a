package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// putWeChatSettings is PUT {c}/payment-settings/wechatpay (admin): the
// community's WeChat Pay v3 merchant account {"mchid","appid","serial_no",
// "private_key","apiv3_key", and "public_key_id"+"public_key" or
// "platform_certs"}. Stored sealed; the answer shows identifiers only.
func (s *Server) putWeChatSettings(c *fiber.Ctx) error {
	var in payment.WeChatSettings
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cid := community(c).ID
	if err := s.pos.merchants.PutWeChat(c.UserContext(), cid, currentUser(c).ID, in); err != nil {
		return err
	}
	m, err := s.pos.merchants.Get(c.UserContext(), cid, payment.WeChatPay)
	if err != nil {
		return err
	}
	return c.JSON(merchantView(*m))
}
