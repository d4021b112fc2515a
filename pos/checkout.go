package pos

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/jobs"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders"
	"shelin/orders/payment"
)

// SaleLine asks for qty of a product.
type SaleLine struct {
	ProductID string `json:"product_id"`
	Qty       int    `json:"qty"`
}

// CheckoutInput is a sale at a stall (API.md POST {c}/sales).
type CheckoutInput struct {
	LocationID string
	DeviceID   string
	UserID     string
	Lines      []SaleLine
	Method     string        // "cash" or "qr"
	Provider   string        // for qr: sandbox, static, wechatpay, alipay
	Tendered   *money.Amount // cash: what the customer handed over
	// Discount off the whole sale; it needs ApproverID, a second person who
	// entered their PIN (see Approve). Both are recorded.
	Discount   *money.Amount
	ApproverID string
}

// Sale is an order as the stall sees it.
type Sale struct {
	Order         *orders.Order
	Payment       *orders.Payment
	LocationID    string
	ShiftID       *string
	ReservationID string
	// FundAmount is what the sale put into the fund (after refunds) once
	// paid, or what it will put in while awaiting payment.
	FundAmount money.Amount
	Earmarks   []fund.EarmarkPart
	// TraceToken opens the public page of where the fund share went (/t/{token}).
	TraceToken string
}

type saleRow struct {
	LocationID    string  `db:"location_id"`
	ShiftID       *string `db:"shift_id"`
	DeviceID      *string `db:"device_id"`
	VolunteerID   *string `db:"volunteer_id"`
	ReservationID string  `db:"reservation_id"`
}

func (s *Service) saleRow(ctx context.Context, q sqlx.QueryerContext, orderID string) (saleRow, error) {
	var r saleRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT location_id, shift_id, device_id, volunteer_id, reservation_id FROM pos_sales WHERE order_id=$1`, orderID)
	if err != nil {
		return r, fmt.Errorf("pos: sale row of %s: %w", orderID, err)
	}
	return r, nil
}

// Checkout sells at a stall in the caller's transaction: the order with its
// lines at today's prices, stock reserved at the stall, and the payment.
// Cash is paid at once (stock committed, proceeds posted); a QR sale waits
// for payment until its expiry, when a durable job releases the stock.
func (s *Service) Checkout(ctx context.Context, tx *sqlx.Tx, communityID string, in CheckoutInput) (*Sale, error) {
	stall, err := s.sellableStall(ctx, tx, communityID, in.LocationID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.Field("location_id", "this location is not a stall you can sell at")
		}
		return nil, err
	}
	if len(in.Lines) == 0 {
		return nil, apperr.Field("lines", "the cart is empty")
	}
	var prov payment.Provider
	switch in.Method {
	case "cash":
		prov, err = s.Providers.Get(payment.Cash)
	case "qr":
		if in.Provider == payment.Cash || in.Provider == "" {
			return nil, apperr.Field("payment.provider", "choose a QR provider: sandbox, static, wechatpay or alipay")
		}
		prov, err = s.Providers.Get(in.Provider)
		if in.Tendered != nil {
			return nil, apperr.Field("payment.tendered", "tendered is for cash payments")
		}
	default:
		return nil, apperr.Field("payment.method", "payment method must be cash or qr")
	}
	if err != nil {
		return nil, err
	}
	if payment.IsRemote(prov) {
		if err := payment.Configured(ctx, tx, communityID, prov.Name()); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(in.Lines))
	for i, l := range in.Lines {
		if !orders.ValidID(l.ProductID) {
			return nil, apperr.Field(fmt.Sprintf("lines[%d].product_id", i), "unknown product")
		}
		ids = append(ids, l.ProductID)
	}
	products, err := s.Inventory.ProductsByID(ctx, tx, communityID, ids)
	if err != nil {
		return nil, err
	}
	newLines := make([]orders.NewLine, 0, len(in.Lines))
	invLines := make([]inventory.Line, 0, len(in.Lines))
	for i, l := range in.Lines {
		p, ok := products[l.ProductID]
		if !ok {
			return nil, apperr.Field(fmt.Sprintf("lines[%d].product_id", i), "unknown product")
		}
		nl := orders.NewLine{ProductID: p.ID, Name: p.Name, Qty: l.Qty, UnitPrice: p.Price, UnitCost: p.UnitCost}
		if p.Consigned() && p.MakerSharePercent.IsPositive() {
			nl.MakerName = p.MakerName
			if nl.MakerName == "" {
				nl.MakerName = "maker"
			}
			nl.MakerPercent = p.MakerSharePercent
		}
		newLines = append(newLines, nl)
		invLines = append(invLines, inventory.Line{ProductID: p.ID, Qty: l.Qty})
	}

	// The drawer: a cash sale needs an open shift; a QR sale joins it if any.
	var shiftID *string
	var shift struct {
		ID string `db:"id"`
	}
	err = tx.GetContext(ctx, &shift, `SELECT id FROM pos_shifts WHERE community_id=$1 AND location_id=$2 AND closed_at IS NULL FOR SHARE`, communityID, stall.LocationID)
	switch {
	case err == nil:
		shiftID = &shift.ID
	case in.Method == "cash":
		return nil, apperr.Conflictf("open a shift (with the cash float) before taking cash")
	}

	discount := money.Zero
	if in.Discount != nil && !in.Discount.IsZero() {
		if in.ApproverID == "" {
			return nil, apperr.Field("approver", "a discount needs a second person's PIN")
		}
		discount = *in.Discount
	}
	now := s.now()
	var expiresAt *time.Time
	resExpiry := now.Add(10 * time.Minute)
	if in.Method == "qr" {
		e := now.Add(s.qrExpiry())
		expiresAt = &e
		resExpiry = e.Add(reservationGrace)
	}
	o, err := orders.Create(ctx, tx, orders.New{CommunityID: communityID, Channel: "pos", Prefix: stall.Prefix, Lines: newLines,
		CreatedBy: in.UserID, ExpiresAt: expiresAt, Discount: discount})
	if err != nil {
		return nil, err
	}
	if discount.IsPositive() && in.UserID != "" {
		if err := RecordApproval(ctx, tx, communityID, ActionDiscount, o.ID, in.UserID, in.ApproverID); err != nil {
			return nil, err
		}
	}
	if in.Method == "qr" && !o.Total.IsPositive() {
		return nil, apperr.Field("payment.method", "a QR payment needs an amount above zero")
	}
	// The sale owns its reservation: only its payment (commit) or its end
	// (expiry, cancel, suspense: release) ends it.
	res, err := s.Inventory.ReserveOwned(ctx, tx, communityID, stall.LocationID, invLines, o.Number, saleOwner, resExpiry)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pos_sales (order_id, community_id, location_id, shift_id, device_id, volunteer_id, reservation_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`, o.ID, communityID, stall.LocationID, shiftID, nullable(in.DeviceID), nullable(in.UserID), res.ID); err != nil {
		return nil, err
	}
	pay, err := orders.CreatePayment(ctx, tx, orders.NewPayment{CommunityID: communityID, OrderID: o.ID, Provider: prov.Name(),
		Amount: o.Total, Tendered: in.Tendered, ExpiresAt: expiresAt})
	if err != nil {
		return nil, err
	}
	if in.Method == "cash" {
		out, err := s.settle(ctx, tx, o, pay, Evidence{Source: EvCash, Amount: o.Total, ConfirmedBy: in.UserID})
		if err != nil {
			return nil, err
		}
		if out.Kind != Completed {
			return nil, fmt.Errorf("pos: cash sale %s did not complete (%s %s)", o.Number, out.Kind, out.Reason)
		}
	} else if payment.IsRemote(prov) {
		// A remote provider is called after commit (providers.go).
		if err := recordRemoteCreate(ctx, tx, communityID, pay.ID, now); err != nil {
			return nil, err
		}
		if _, err := jobs.Insert(ctx, tx, ExpireSaleArgs{CommunityID: communityID, OrderID: o.ID}, &jobs.InsertOpts{ScheduledAt: *expiresAt}); err != nil {
			return nil, err
		}
		if err := notify(ctx, tx, communityID, o.ID, o.Status); err != nil {
			return nil, err
		}
	} else {
		created, err := prov.Create(ctx, tx, payment.CreateRequest{CommunityID: communityID, PaymentID: pay.ID, MerchantRef: pay.MerchantRef,
			Amount: o.Total, Description: stall.Name + " " + o.Number, ExpiresAt: *expiresAt})
		if err != nil {
			return nil, err
		}
		if err := orders.SetQRPayload(ctx, tx, pay.ID, created.QRPayload); err != nil {
			return nil, err
		}
		if _, err := jobs.Insert(ctx, tx, ExpireSaleArgs{CommunityID: communityID, OrderID: o.ID}, &jobs.InsertOpts{ScheduledAt: *expiresAt}); err != nil {
			return nil, err
		}
		if err := notify(ctx, tx, communityID, o.ID, o.Status); err != nil {
			return nil, err
		}
	}
	return s.GetSale(ctx, tx, communityID, o.ID)
}

// GetSale returns a sale of the community with its payment and fund share.
func (s *Service) GetSale(ctx context.Context, q sqlx.QueryerContext, communityID, orderID string) (*Sale, error) {
	o, err := orders.Get(ctx, q, communityID, orderID)
	if err != nil {
		return nil, err
	}
	row, err := s.saleRow(ctx, q, o.ID)
	if err != nil {
		return nil, apperr.NotFoundf("sale not found")
	}
	p, err := orders.PaymentOf(ctx, q, o.ID)
	if err != nil {
		return nil, err
	}
	sale := &Sale{Order: o, Payment: p, LocationID: row.LocationID, ShiftID: row.ShiftID, ReservationID: row.ReservationID}
	if o.Status == orders.Paid && o.Total.IsPositive() {
		posted, err := s.Fund.SaleFund(ctx, q, communityID, fund.SourceSale, o.ID)
		if err != nil {
			return nil, err
		}
		sale.FundAmount, sale.Earmarks, sale.TraceToken = posted.Net, posted.Earmarks, posted.TraceToken
	} else if o.Status == orders.AwaitingPayment {
		sale.FundAmount = estimateNet(o, p)
	}
	return sale, nil
}

func estimateNet(o *orders.Order, p *orders.Payment) money.Amount {
	net := money.Zero
	for _, l := range o.Lines {
		net = net.Add(l.FundAmount)
	}
	return net
}

// proceedsOf is the ledger posting of a paid order, the sum of its lines'
// parts, with the money arriving in debit.
func proceedsOf(o *orders.Order, p *orders.Payment, debit fund.AccountRef) fund.Proceeds {
	pr := fund.Proceeds{CommunityID: o.CommunityID, SourceKind: fund.SourceSale, SourceID: o.ID, SourceRef: o.Number,
		Gross: o.Total, DebitAccount: debit}
	makers := map[string]money.Amount{}
	for _, l := range o.Lines {
		pr.SupplierCost = pr.SupplierCost.Add(l.CostAmount)
		pr.ProviderFee = pr.ProviderFee.Add(l.FeeAmount)
		if l.MakerShare.IsPositive() {
			makers[l.MakerName] = makers[l.MakerName].Add(l.MakerShare)
			pr.MakerShare = pr.MakerShare.Add(l.MakerShare)
		}
	}
	pr.Makers = makerParts(makers)
	return pr
}

// makerParts lists makers' amounts in name order (a stable ledger entry).
func makerParts(makers map[string]money.Amount) []fund.MakerPart {
	names := make([]string, 0, len(makers))
	for n := range makers {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fund.MakerPart, 0, len(names))
	for _, n := range names {
		out = append(out, fund.MakerPart{Name: n, Amount: makers[n]})
	}
	return out
}

// ConfirmStatic records a volunteer's confirmation that a static-QR payment
// arrived, through the one confirmation path: an awaiting sale completes; a
// sale that expired or was cancelled meanwhile has its money held in
// suspense for the treasurer (the customer paid; the money is booked).
// Confirming twice has one effect.
func (s *Service) ConfirmStatic(ctx context.Context, tx *sqlx.Tx, communityID, orderID, userID string) (*Sale, Outcome, error) {
	o, p, err := lockSale(ctx, tx, communityID, orderID)
	if err != nil {
		return nil, Outcome{}, err
	}
	if p.Provider != payment.Static {
		return nil, Outcome{}, apperr.Conflictf("only a static-QR sale is confirmed by hand; this one is paid by %s", p.Provider)
	}
	out, err := s.settle(ctx, tx, o, p, Evidence{Source: EvStatic, Amount: p.Amount, TxnID: "static:" + userID, ConfirmedBy: userID})
	if err != nil {
		return nil, Outcome{}, err
	}
	sale, err := s.GetSale(ctx, tx, communityID, o.ID)
	return sale, out, err
}

// Cancel ends a sale that awaits payment (the customer walked away) and
// releases its stock. The provider's payment is closed first, outside any
// transaction; when the provider says the customer has already paid, the
// payment is confirmed instead and Cancel answers the paid sale with a
// conflict error (the confirmation is committed).
func (s *Service) Cancel(ctx context.Context, communityID, orderID, userID string) (*Sale, error) {
	return s.end(ctx, communityID, orderID, orders.Cancelled)
}

// ExpireSale is the durable expiry of a QR sale: at its expiry an unpaid sale
// becomes expired and its stock is released; one the provider says was paid
// is confirmed instead. Running it twice (retries, replicas, the sweep) has
// one effect. It reports whether it expired the sale.
func (s *Service) ExpireSale(ctx context.Context, communityID, orderID string) (bool, error) {
	sale, err := s.end(ctx, communityID, orderID, orders.Expired)
	if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.NotFound) {
		return false, nil // paid, already closed, or not due: nothing to expire
	}
	if err != nil {
		return false, err
	}
	return sale.Order.Status == orders.Expired, nil
}

// end closes an awaiting sale as expired or cancelled. Step 1 (outside any
// transaction) closes the payment at the provider; if the provider answers
// that it is already paid, step 2 confirms it through settle. Otherwise step
// 2 closes the order and releases its stock, in one transaction.
func (s *Service) end(ctx context.Context, communityID, orderID, status string) (*Sale, error) {
	o, err := orders.Get(ctx, s.DB, communityID, orderID)
	if err != nil {
		return nil, err
	}
	if o.Status != orders.AwaitingPayment {
		return nil, apperr.Conflictf("only a sale awaiting payment can be %s; this one is %s", status, o.Status)
	}
	if status == orders.Expired && (o.ExpiresAt == nil || s.now().Before(*o.ExpiresAt)) {
		return nil, apperr.Conflictf("the sale has not expired yet")
	}
	p, err := orders.PaymentOf(ctx, s.DB, o.ID)
	if err != nil {
		return nil, err
	}
	prov, err := s.provider(p)
	if err != nil {
		return nil, err
	}
	var paid *payment.QueryResult
	if err := prov.Close(ctx, p.MerchantRef); err != nil {
		if !apperr.Is(err, apperr.Conflict) {
			return nil, fmt.Errorf("pos: close payment %s at %s: %w", p.MerchantRef, p.Provider, err)
		}
		q, qerr := prov.Query(ctx, p.MerchantRef)
		if qerr != nil {
			return nil, fmt.Errorf("pos: query payment %s at %s: %w", p.MerchantRef, p.Provider, qerr)
		}
		if q.Status != payment.StatusSucceeded {
			return nil, fmt.Errorf("pos: %s refused to close %s but reports it %s", p.Provider, p.MerchantRef, q.Status)
		}
		paid = &q
	}
	var sale *Sale
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		o, p, err := lockSale(ctx, tx, communityID, orderID)
		if err != nil {
			return err
		}
		if paid != nil {
			if _, err := s.settle(ctx, tx, o, p, Evidence{Source: EvClose, Amount: paid.Amount, TxnID: paid.TxnID}); err != nil {
				return err
			}
		} else if o.Status == orders.AwaitingPayment {
			if _, err := orders.Close(ctx, tx, o.ID, status); err != nil {
				return err
			}
			row, err := s.saleRow(ctx, tx, o.ID)
			if err != nil {
				return err
			}
			if err := s.Inventory.Release(ctx, tx, o.CommunityID, row.ReservationID); err != nil {
				return err
			}
			if err := notify(ctx, tx, o.CommunityID, o.ID, status); err != nil {
				return err
			}
		}
		sale, err = s.GetSale(ctx, tx, communityID, orderID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sale.Order.Status != status {
		return sale, apperr.Conflictf("the customer has just paid: the sale is %s", sale.Order.Status).Say("err.sale.justpaid")
	}
	return sale, nil
}

// RecentSales returns the community's latest sales (of one stall when
// locationID is set), newest first.
func (s *Service) RecentSales(ctx context.Context, q sqlx.QueryerContext, communityID, locationID string, limit int) ([]*Sale, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var ids []string
	if err := sqlx.SelectContext(ctx, q, &ids, `SELECT order_id FROM pos_sales WHERE community_id=$1 AND ($2 = '' OR location_id::text = $2)
		ORDER BY created_at DESC LIMIT $3`, communityID, locationID, limit); err != nil {
		return nil, err
	}
	out := make([]*Sale, 0, len(ids))
	for _, id := range ids {
		sale, err := s.GetSale(ctx, q, communityID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, sale)
	}
	return out, nil
}
