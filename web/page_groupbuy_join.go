package web

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/groupbuy"
	"shelin/orders/payment"
)

// joinForm is what the neighbour typed, kept when the page comes back with
// a message.
type joinForm struct {
	Qty                   int
	Name, Phone, Building string
	Error                 string
	ErrStep               int
}

// pageGroupBuyJoin is GET /g/{token}: the join page on a phone — the deal,
// the live progress and countdown, then quantity → name and phone → pay.
func (s *Server) pageGroupBuyJoin(c *fiber.Ctx) error {
	return s.renderJoinPage(c, joinForm{Qty: 1})
}

func (s *Server) renderJoinPage(c *fiber.Ctx, f joinForm) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	pub, err := s.publicCampaignOf(c, camp)
	if err != nil {
		return err
	}
	com, err := s.ids.Community(c.UserContext(), camp.CommunityID)
	if err != nil {
		return err
	}
	l, zone := lang(c), com.Location()
	when := func(t time.Time) string { t = t.In(zone); return formatDate(l, t) + " " + t.Format("15:04") }
	closed := ""
	switch {
	case camp.Status != groupbuy.Open || !camp.Deadline.After(time.Now()):
		closed = s.ui.t(l, "gb.closed")
	case camp.Left() <= 0:
		closed = s.ui.t(l, "gb.full")
	}
	window := ""
	if camp.PickupFrom != nil && camp.PickupUntil != nil {
		window = fmt.Sprintf(s.ui.t(l, "gb.pickup_window"), when(*camp.PickupFrom), when(*camp.PickupUntil))
	}
	percent := 100
	if camp.MinQty > 0 && pub.PaidQty < camp.MinQty {
		percent = pub.PaidQty * 100 / camp.MinQty
	}
	maxQty := camp.Left()
	if camp.PerPersonMax != nil && *camp.PerPersonMax < maxQty {
		maxQty = *camp.PerPersonMax
	}
	if f.Qty < 1 {
		f.Qty = 1
	}
	left := time.Until(camp.Deadline)
	countdown := fmt.Sprintf(s.ui.t(l, "gb.unit.min"), max(int(left.Minutes())%60, 0))
	if h := int(left.Hours()); h > 0 {
		countdown = fmt.Sprintf(s.ui.t(l, "gb.unit.hour"), h%24) + countdown
		if h >= 24 {
			countdown = fmt.Sprintf(s.ui.t(l, "gb.unit.day"), h/24) + countdown
		}
	}
	return s.render(c, "gb_join", "gb.title", fiber.Map{"C": pub, "Token": camp.Token, "Community": com.Name,
		"Deadline": when(camp.Deadline), "DeadlineUnix": camp.Deadline.Unix(), "Countdown": countdown, "PickupWindow": window,
		"Percent": percent, "Closed": closed, "Providers": pub.Providers, "Total": camp.Price.Mul(int64(f.Qty)).Yuan(),
		"Qty": f.Qty, "MaxQty": max(maxQty, 1), "Name": f.Name, "Phone": f.Phone, "Building": f.Building, "Error": f.Error,
		"ErrStep": f.ErrStep, "Key": payment.Token()})
}

// errStep is the step of the join page a refusal concerns.
func errStep(key string) int {
	switch key {
	case "name", "phone", "building":
		return 2
	case "provider":
		return 3
	}
	return 1
}

// pageGroupBuyJoinSubmit is POST /g/{token}: the join page's form. It joins
// (once per form key, so a double tap or a reload joins once) and sends the
// neighbour to pay; a refusal comes back on the page, in their language, at
// the step it concerns.
func (s *Server) pageGroupBuyJoinSubmit(c *fiber.Ctx) error {
	token := c.Params("token")
	qty, _ := strconv.Atoi(c.FormValue("qty"))
	f := joinForm{Qty: qty, Name: c.FormValue("name"), Phone: c.FormValue("phone"), Building: c.FormValue("building")}
	req := joinCreateRequest{Name: f.Name, Phone: f.Phone, Building: f.Building, Qty: qty, Provider: c.FormValue("provider")}
	v, err := s.joinOnce(c, token, "page:"+c.FormValue("key"), req)
	if err != nil {
		var r *groupbuy.Refusal
		if !errors.As(err, &r) {
			return err
		}
		f.Error, f.ErrStep = s.refusalMessage(lang(c), r), errStep(r.Key)
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderJoinPage(c, f)
	}
	next := v.URL
	if v.Payment.Provider == payment.Sandbox && v.Payment.QRPayload != nil {
		next = *v.Payment.QRPayload // the simulated wallet, as a phone's wallet app would open
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// refusalMessage says a refusal in the reader's language.
func (s *Server) refusalMessage(l string, r *groupbuy.Refusal) string {
	m := s.ui.t(l, "gb.err."+r.Key)
	if m == "gb.err."+r.Key {
		return s.ui.t(l, "gb.err.generic")
	}
	if r.Key == "left" || r.Key == "per_person" {
		return fmt.Sprintf(m, r.N)
	}
	return m
}
