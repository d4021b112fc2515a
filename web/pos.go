package web

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
	"shelin/pos"
)

// posArea is the stall's part of the server: the pos service, the sandbox
// wallet and the hub of live sale events.
type posArea struct {
	svc     *pos.Service
	sandbox *payment.SandboxProvider
	// The real providers, one merchant account per community (merchants).
	wechat    *payment.WeChatProvider
	alipay    *payment.AlipayProvider
	merchants *payment.Merchants
	hub       *pos.Hub // nil without DatabaseURL: event streams poll instead
}

// deviceCookie and deviceHeader carry a paired tablet's credential.
const (
	deviceCookie = "shelin_device"
	deviceHeader = "Shelin-Device"
)

func (s *Server) initPOS() {
	merchants := payment.NewMerchants(s.db, s.cfg.SecretKey)
	hooks := strings.TrimRight(s.cfg.BaseURL, "/") + "/api/v1/webhooks/"
	wechat := &payment.WeChatProvider{Merchants: merchants, Host: s.cfg.WeChatPayHost, NotifyURL: hooks + payment.WeChatPay}
	alipay := &payment.AlipayProvider{Merchants: merchants, Gateway: s.cfg.AlipayGateway, NotifyURL: hooks + payment.Alipay}
	providers := []payment.Provider{payment.CashProvider{}, payment.StaticProvider{}, wechat, alipay}
	var sandbox *payment.SandboxProvider // nil unless Config.Sandbox: no simulated money in production
	if s.cfg.Sandbox {
		sandbox = &payment.SandboxProvider{BaseURL: s.cfg.BaseURL, Secret: []byte(s.cfg.SandboxSecret), DB: s.db, Enqueue: pos.EnqueueSandboxDelivery}
		providers = append(providers, sandbox)
	}
	svc := &pos.Service{DB: s.db, Inventory: inventory.New(s.db), Fund: fund.New(s.db), Identity: s.ids, BaseURL: s.cfg.BaseURL,
		Providers: payment.NewRegistry(providers...)}
	s.pos = &posArea{svc: svc, sandbox: sandbox, wechat: wechat, alipay: alipay, merchants: merchants}
	svc.RegisterWorkers(s.workers, sandbox)
	s.periodic = append(s.periodic, svc.PeriodicJobs()...)
	if s.cfg.DatabaseURL != "" {
		hub, err := pos.NewHub(s.cfg.DatabaseURL)
		if err != nil {
			s.log.Warn("live sale events fall back to polling", "err", err)
			return
		}
		s.pos.hub = hub
		go hub.Run(s.ctx)
	}
}

// POS exposes the stall service (demo data, tests).
func (s *Server) POS() *pos.Service { return s.pos.svc }

// Sandbox exposes the sandbox wallet (demo data, tests); nil when the
// sandbox is off.
func (s *Server) Sandbox() *payment.SandboxProvider { return s.pos.sandbox }

// sandboxOnly answers 404 for the sandbox's wallet pages and webhook when
// the sandbox is off, as if they did not exist.
func (s *Server) sandboxOnly(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.pos.sandbox == nil {
			return apperr.NotFoundf("no such page")
		}
		return h(c)
	}
}

// salePayment is the payment object of API.md.
type salePayment struct {
	ID          string        `json:"id"`
	Method      string        `json:"method"`
	Provider    string        `json:"provider,omitempty"`
	Status      string        `json:"status"`
	MerchantRef string        `json:"merchant_ref"`
	QRPayload   *string       `json:"qr_payload,omitempty"`
	QRImageURL  string        `json:"qr_image_url,omitempty"`
	ExpiresAt   *time.Time    `json:"expires_at,omitempty"`
	Tendered    *money.Amount `json:"tendered,omitempty"`
	Flagged     bool          `json:"flagged,omitempty"`
}

// saleJSON is a sale as API.md shows it.
type saleJSON struct {
	ID            string             `json:"id"`
	Number        string             `json:"number"`
	Status        string             `json:"status"`
	Total         money.Amount       `json:"total"`
	Discount      *money.Amount      `json:"discount,omitempty"`
	Change        *money.Amount      `json:"change,omitempty"`
	FundAmount    money.Amount       `json:"fund_amount"`
	Earmarks      []fund.EarmarkPart `json:"earmarks"`
	ReceiptURL    string             `json:"receipt_url"`
	Payment       salePayment        `json:"payment"`
	Lines         []orders.Line      `json:"lines"`
	RefundedTotal money.Amount       `json:"refunded_total"`
	LocationID    string             `json:"location_id"`
	CreatedAt     time.Time          `json:"created_at"`
	PaidAt        *time.Time         `json:"paid_at,omitempty"`
	// Held: the money arrived but could not complete the sale; it is held in
	// suspense for the treasurer (confirm-static after expiry).
	Held *heldJSON `json:"held,omitempty"`
}

type heldJSON struct {
	ID     string       `json:"id"`
	Reason string       `json:"reason"`
	Amount money.Amount `json:"amount"`
}

func (s *Server) saleView(sale *pos.Sale) saleJSON {
	o, p := sale.Order, sale.Payment
	v := saleJSON{ID: o.ID, Number: o.Number, Status: o.Status, Total: o.Total, Change: p.Change, FundAmount: sale.FundAmount,
		Earmarks: sale.Earmarks, ReceiptURL: s.pos.svc.ReceiptURL(o.ReceiptToken), Lines: o.Lines, RefundedTotal: o.RefundedTotal,
		LocationID: sale.LocationID, CreatedAt: o.CreatedAt, PaidAt: o.PaidAt,
		Payment: salePayment{ID: p.ID, Method: p.Method, Status: p.Status, MerchantRef: p.MerchantRef, QRPayload: p.QRPayload,
			ExpiresAt: p.ExpiresAt, Tendered: p.Tendered, Flagged: p.Flagged}}
	if v.Earmarks == nil {
		v.Earmarks = []fund.EarmarkPart{}
	}
	if o.Discount.IsPositive() {
		d := o.Discount
		v.Discount = &d
	}
	if p.Method == "qr" {
		v.Payment.Provider = p.Provider
		base := strings.TrimRight(s.cfg.BaseURL, "/") + "/api/v1/communities/" + o.CommunityID
		if p.QRPayload != nil {
			v.Payment.QRImageURL = base + "/sales/" + o.ID + "/qr.svg"
		} else if p.Provider == payment.Static {
			v.Payment.QRImageURL = base + "/payment-settings/static"
		}
	}
	return v
}

// device returns the paired tablet making the request, if any.
func (s *Server) device(c *fiber.Ctx) (*pos.Device, error) {
	cred := c.Get(deviceHeader)
	if cred == "" {
		cred = c.Cookies(deviceCookie)
	}
	return s.pos.svc.DeviceByCredential(c.UserContext(), s.db, strings.Clone(cred))
}

// deviceID is the id of the paired tablet making the request, or "".
func (s *Server) deviceID(c *fiber.Ctx) string {
	if c.Get(deviceHeader) == "" && c.Cookies(deviceCookie) == "" {
		return ""
	}
	d, err := s.device(c)
	if err != nil {
		return ""
	}
	return d.ID
}

// saleOf reads a sale of the route's community in q.
func (s *Server) saleOf(ctx context.Context, q sqlx.QueryerContext, cid, id string) (saleJSON, error) {
	sale, err := s.pos.svc.GetSale(ctx, q, cid, id)
	if err != nil {
		return saleJSON{}, err
	}
	return s.saleView(sale), nil
}
