package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/orders"
)

// pagePay is GET /pay/{token}: the sandbox wallet, clearly a simulation. It
// shows the order like a wallet app would, with the fund share, and a pay
// button.
func (s *Server) pagePay(c *fiber.Ctx) error {
	sp, err := s.pos.sandbox.Lookup(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	p, err := orders.PaymentByID(c.UserContext(), s.db, sp.PaymentID)
	if err != nil {
		return err
	}
	r, gb, err := s.groupBuyWalletReceipt(c.UserContext(), p)
	if err != nil {
		return err
	}
	if !gb {
		if r, err = s.pos.svc.ReceiptOf(c.UserContext(), s.db, p.CommunityID, p.OrderID); err != nil {
			return err
		}
	}
	expired := sp.Status == "closed" || (sp.Status == "open" && sp.ExpiresAt != nil && time.Now().After(*sp.ExpiresAt))
	return s.render(c, "pay", "pay.title", fiber.Map{"Wallet": sp, "Receipt": r, "Expired": expired,
		"Token": sp.Token, "Paid": sp.Status == "paid"})
}
