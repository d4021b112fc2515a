package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// putAlipaySettings is PUT {c}/payment-settings/alipay (admin): the
// community's Alipay app {"app_id","private_key", and "alipay_public_key"
// or "app_cert"+"alipay_cert"+"root_cert", "seller_id"?, "sandbox"}.
// Stored sealed; the answer shows identifiers only.
func (s *Server) putAlipaySettings(c *fiber.Ctx) error {
	var in payment.AlipaySettings
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cid := community(c).ID
	if err := s.pos.merchants.PutAlipay(c.UserContext(), cid, currentUser(c).ID, in); err != nil {
		return err
	}
	m, err := s.pos.merchants.Get(c.UserContext(), cid, payment.Alipay)
	if err != nil {
		return err
	}
	return c.JSON(merchantView(*m))
}
