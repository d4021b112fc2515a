package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/orders/payment"
)

// pagePaymentsAlipay is POST /admin/{cid}/payments/alipay: save the Alipay
// app from the page. A field at fault is named next to it.
func (s *Server) pagePaymentsAlipay(c *fiber.Ctx) error {
	in := payment.AlipaySettings{AppID: c.FormValue("app_id"), PrivateKeyPEM: c.FormValue("private_key"),
		AlipayPublicKey: c.FormValue("alipay_public_key"), AppCertPEM: c.FormValue("app_cert"), AlipayCertPEM: c.FormValue("alipay_cert"),
		RootCertPEM: c.FormValue("root_cert"), SellerID: c.FormValue("seller_id"), Sandbox: c.FormValue("sandbox") == "on"}
	cid := community(c).ID
	err := s.pos.merchants.PutAlipay(c.UserContext(), cid, currentUser(c).ID, in)
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		return s.renderPayments(c, paymentsView{ErrorKey: "paymerch.err." + e.Field, Field: e.Field, Provider: payment.Alipay})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/"+cid+"/payments?done=saved&provider=alipay", fiber.StatusSeeOther)
}
