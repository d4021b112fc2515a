package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/groupbuy"
	"shelin/internal/apperr"
	"shelin/orders"
	"shelin/orders/payment"
)

func sendSVG(c *fiber.Ctx, payload string, module int) error {
	svg, err := payment.QRSVG(payload, module)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.SendString(svg)
}

// groupBuyJoinQR is GET /g/{token}/qr.svg: the join link as a QR code (poster).
func (s *Server) groupBuyJoinQR(c *fiber.Ctx) error {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return err
	}
	return sendSVG(c, s.gbURL(camp.Token), 8)
}

func (s *Server) joinOfPath(c *fiber.Ctx) (*groupbuy.Campaign, *groupbuy.Join, error) {
	camp, err := s.gb.ByToken(c.UserContext(), s.db, c.Params("token"))
	if err != nil {
		return nil, nil, err
	}
	j, err := s.gb.JoinByToken(c.UserContext(), s.db, camp.ID, c.Params("jtoken"))
	return camp, j, err
}

// groupBuyPickupQR is GET /g/{token}/j/{jtoken}/pickup.svg: the pickup code
// as a QR the station scans (only once the join is paid).
func (s *Server) groupBuyPickupQR(c *fiber.Ctx) error {
	_, j, err := s.joinOfPath(c)
	if err != nil {
		return err
	}
	if !showCode(j.Status) {
		return apperr.NotFoundf("no pickup code yet")
	}
	return sendSVG(c, j.PickupCode, 10)
}

// groupBuyPayQR is GET /g/{token}/j/{jtoken}/pay.svg: the join's payment QR.
func (s *Server) groupBuyPayQR(c *fiber.Ctx) error {
	_, j, err := s.joinOfPath(c)
	if err != nil {
		return err
	}
	p, err := orders.PaymentByID(c.UserContext(), s.db, j.PaymentID)
	if err != nil {
		return err
	}
	if p.QRPayload == nil || j.Status != groupbuy.JoinPending {
		return apperr.NotFoundf("nothing to pay")
	}
	return sendSVG(c, *p.QRPayload, 8)
}
