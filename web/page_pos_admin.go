package web

import (
	"html/template"

	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

// posAdminView is what templates/pos_admin.html shows.
type posAdminView struct {
	CommunityID string
	Stalls      []posAdminStall
	Devices     []pos.Device
	StaticQR    bool
	Flagged     []orders.Payment
	Pairing     *posPairing
	Error       string
	Done        string
}

type posAdminStall struct {
	LocationID, Name, Prefix string
}

type posPairing struct {
	Device string
	Code   string
	URL    string
	QR     template.HTML
}

// pagePOSAdmin is GET /admin/{cid}/pos: stalls and their order-number
// prefixes, tablets and new pairing codes (with a QR to scan from the
// tablet), the fixed 收款码, and payments flagged for the treasurer.
func (s *Server) pagePOSAdmin(c *fiber.Ctx) error {
	return s.renderPOSAdmin(c, nil, "", c.Query("done"))
}

func (s *Server) renderPOSAdmin(c *fiber.Ctx, pairing *posPairing, errMsg, done string) error {
	ctx, cid := c.UserContext(), community(c).ID
	v := posAdminView{CommunityID: cid, Pairing: pairing, Error: errMsg, Done: done}
	locs, err := s.pos.svc.Inventory.Locations(ctx, s.db, cid)
	if err != nil {
		return err
	}
	stalls, err := s.pos.svc.Stalls(ctx, s.db, cid)
	if err != nil {
		return err
	}
	prefix := map[string]string{}
	for _, st := range stalls {
		prefix[st.LocationID] = st.Prefix
	}
	for _, l := range locs {
		if l.Kind == inventory.KindStall {
			v.Stalls = append(v.Stalls, posAdminStall{LocationID: l.ID, Name: l.Name, Prefix: prefix[l.ID]})
		}
	}
	if v.Devices, err = s.pos.svc.Devices(ctx, s.db, cid); err != nil {
		return err
	}
	if _, _, err := payment.StaticImage(ctx, s.db, cid); err == nil {
		v.StaticQR = true
	}
	if v.Flagged, err = orders.Flagged(ctx, s.db, cid); err != nil {
		return err
	}
	return s.render(c, "pos_admin", "posadm.title", v)
}
