package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
)

// pagePaymentsTest is POST /admin/{cid}/payments/{provider}/test: "test
// connection" from the page; the result is shown next to that account.
func (s *Server) pagePaymentsTest(c *fiber.Ctx) error {
	provider := param(c, "provider")
	ok, msg, err := s.testMerchant(c.UserContext(), community(c).ID, provider)
	if apperr.Is(err, apperr.NotFound) {
		return s.renderPayments(c, paymentsView{ErrorKey: "paymerch.err.not_set", Provider: provider})
	}
	if err != nil {
		return err
	}
	return s.renderPayments(c, paymentsView{Done: "tested", Provider: provider, TestOK: &ok, TestMsg: msg})
}
