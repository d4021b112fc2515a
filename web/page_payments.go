package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/orders/payment"
)

// paymentsView is what templates/payments.html shows: the two accounts'
// identifiers (never a secret), the webhook URLs, and what just happened.
type paymentsView struct {
	CommunityID string
	WX, Ali     payBlock
	Webhooks    map[string]string
	// ErrorKey is a catalogue key (pay.err.*), Field the form field at fault.
	ErrorKey string
	Field    string
	Provider string // the form the error or result belongs to
	Done     string // saved, or the provider just tested
	TestOK   *bool
	TestMsg  string
}

// pagePayments is GET /admin/{cid}/payments: the community's WeChat Pay
// and Alipay accounts, with field help, saving (secrets are never shown
// again) and "test connection".
func (s *Server) pagePayments(c *fiber.Ctx) error {
	return s.renderPayments(c, paymentsView{Done: c.Query("done"), Provider: c.Query("provider")})
}

func (s *Server) renderPayments(c *fiber.Ctx, v paymentsView) error {
	cid := community(c).ID
	v.CommunityID = cid
	v.WX, v.Ali = v.block(payment.WeChatPay), v.block(payment.Alipay)
	ms, err := s.pos.merchants.List(c.UserContext(), cid)
	if err != nil {
		return err
	}
	for _, m := range ms {
		mv := merchantView(m)
		switch m.Provider {
		case payment.WeChatPay:
			v.WX.M, v.WX.Open = &mv, v.Provider == payment.WeChatPay && v.ErrorKey != ""
		case payment.Alipay:
			v.Ali.M, v.Ali.Open = &mv, v.Provider == payment.Alipay && v.ErrorKey != ""
		}
	}
	hooks := strings.TrimRight(s.cfg.BaseURL, "/") + "/api/v1/webhooks/"
	v.Webhooks = map[string]string{"wechatpay": hooks + "wechatpay", "alipay": hooks + "alipay"}
	return s.render(c, "payments", "paymerch.title", v)
}

// payBlock is one provider's part of the page.
type payBlock struct {
	M        *merchantJSON
	Open     bool // the form is unfolded (nothing saved yet, or an error in it)
	Saved    bool
	Tested   bool
	TestOK   bool
	TestMsg  string
	ErrorKey string
}

func (v paymentsView) block(provider string) payBlock {
	b := payBlock{Open: true}
	if v.Provider != provider {
		return b
	}
	b.Saved, b.ErrorKey = v.Done == "saved", v.ErrorKey
	if v.TestOK != nil {
		b.Tested, b.TestOK, b.TestMsg = true, *v.TestOK, v.TestMsg
	}
	return b
}
