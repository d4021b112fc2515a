package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/orders/payment"
)

// pagePaymentsWeChat is POST /admin/{cid}/payments/wechatpay: save the
// WeChat Pay account from the page. A field at fault is named next to it.
func (s *Server) pagePaymentsWeChat(c *fiber.Ctx) error {
	in := payment.WeChatSettings{MchID: c.FormValue("mchid"), AppID: c.FormValue("appid"), SerialNo: c.FormValue("serial_no"),
		PrivateKeyPEM: c.FormValue("private_key"), APIv3Key: c.FormValue("apiv3_key"), PublicKeyID: c.FormValue("public_key_id"),
		PublicKeyPEM: c.FormValue("public_key"), PlatformCertsPEM: c.FormValue("platform_certs")}
	cid := community(c).ID
	err := s.pos.merchants.PutWeChat(c.UserContext(), cid, currentUser(c).ID, in)
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		return s.renderPayments(c, paymentsView{ErrorKey: "paymerch.err." + e.Field, Field: e.Field, Provider: payment.WeChatPay})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+cid+"/payments?done=saved&provider=wechatpay", fiber.StatusSeeOther)
}
