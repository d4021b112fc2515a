package web

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/groupbuy"
	"shelin/orders"
	"shelin/orders/payment"
)

// pageGroupBuyMine is GET /g/{token}/j/{jtoken}: the neighbour's own join.
// Unpaid: the way to pay (it reloads itself when the money arrives). Paid:
// the pickup code, huge, with its QR.
func (s *Server) pageGroupBuyMine(c *fiber.Ctx) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	j, err := s.gb.JoinByToken(c.UserContext(), s.db, camp.ID, c.Params("jtoken"))
	if err != nil {
		return err
	}
	p, err := orders.PaymentByID(c.UserContext(), s.db, j.PaymentID)
	if err != nil {
		return err
	}
	com, err := s.ids.Community(c.UserContext(), camp.CommunityID)
	if err != nil {
		return err
	}
	l, zone := lang(c), com.Location()
	when := func(t time.Time) string { t = t.In(zone); return formatDate(l, t) + " " + t.Format("15:04") }
	v := s.joinView(camp, j, p)
	wallet := ""
	if p.Provider == payment.Sandbox && p.QRPayload != nil {
		wallet = *p.QRPayload
	}
	window := ""
	if camp.PickupFrom != nil && camp.PickupUntil != nil {
		window = fmt.Sprintf(s.ui.t(l, "gb.pickup_window"), when(*camp.PickupFrom), when(*camp.PickupUntil))
	}
	return s.render(c, "gb_mine", "gb.mine.title", fiber.Map{"J": v, "Title": camp.Title, "PayUntil": when(j.ExpiresAt),
		"WalletURL": wallet, "PickupQR": s.gbURL(camp.Token, "j", j.Token, "pickup.svg"), "PickupPoint": camp.PickupPoint,
		"PickupWindow": window, "JoinURL": s.gbURL(camp.Token),
		"Poll": j.Status == groupbuy.JoinPending || j.Status == groupbuy.JoinPaid || j.Status == groupbuy.JoinRefunding || j.Status == groupbuy.JoinHeld})
}
