package pos

// Remote payment providers (WeChat Pay, Alipay): their create is a call to
// the provider's servers, so it follows the outbox like refunds do.
//
//	checkout (tx A)   payment row + payment_creates row (pending) + a
//	                  CreatePaymentArgs job a few seconds later (the fallback)
//	after commit      CreateRemotePayment: Provider.Create outside any
//	                  transaction (idempotent on out_trade_no), called by the
//	                  request that made the sale and, if that never happens,
//	                  by the job
//	tx B              the QR payload stored (if the sale still waits), the
//	                  sale's event sent (GET and SSE show the QR), and the
//	                  polling chain started
//
// While a sale waits, PollSaleArgs asks the provider every few seconds,
// then less often (pollDelay), until the sale is paid or expired; at expiry
// ExpireSale closes the trade (Close, then Query if the provider says it
// was paid). A notification that never comes cannot leave a paid sale
// unpaid. Money that arrives after its sale ended is held in suspense and,
// at a provider that refunds (autoRefunds), given back at once through the
// suspense-refund outbox; the treasurer sees it on the held-money page.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/jobs"
	"shelin/orders"
	"shelin/orders/payment"
)

// CreatePaymentArgs is the durable fallback of a remote provider's create.
type CreatePaymentArgs struct {
	CommunityID string `json:"community_id"`
	PaymentID   string `json:"payment_id"`
}

func (CreatePaymentArgs) Kind() string { return "pos_payment_create" }

// PollSaleArgs polls one waiting sale's provider; it reschedules itself.
type PollSaleArgs struct {
	CommunityID string `json:"community_id"`
	OrderID     string `json:"order_id"`
	N           int    `json:"n"`
}

func (PollSaleArgs) Kind() string { return "pos_sale_poll" }

// createFallbackDelay is how long the create job waits for the request
// that made the sale to create the QR itself.
const createFallbackDelay = 5 * time.Second

// pollDelay is the wait before the n-th poll of a waiting sale: every 3 s
// for the first half minute, then 5 s, 10 s, and 20 s after two minutes.
func pollDelay(n int) time.Duration {
	switch {
	case n < 10:
		return 3 * time.Second
	case n < 16:
		return 5 * time.Second
	case n < 22:
		return 10 * time.Second
	default:
		return 20 * time.Second
	}
}

// recordRemoteCreate is checkout's part (tx A) for a remote provider.
func recordRemoteCreate(ctx context.Context, tx *sqlx.Tx, communityID, paymentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO payment_creates (payment_id, community_id) VALUES ($1,$2)`, paymentID, communityID); err != nil {
		return err
	}
	_, err := jobs.Insert(ctx, tx, CreatePaymentArgs{CommunityID: communityID, PaymentID: paymentID},
		&jobs.InsertOpts{ScheduledAt: now.Add(createFallbackDelay), MaxAttempts: 8})
	return err
}

// CreateStatus is where a remote create stands.
type CreateStatus struct {
	Status    string `db:"status"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
}

// RemoteCreateStatus returns a payment's create outbox row, not_found for a
// local provider's payment.
func (s *Service) RemoteCreateStatus(ctx context.Context, q sqlx.QueryerContext, paymentID string) (*CreateStatus, error) {
	var cs CreateStatus
	err := sqlx.GetContext(ctx, q, &cs, `SELECT status, attempts, last_error FROM payment_creates WHERE payment_id=$1`, paymentID)
	if err != nil {
		return nil, apperr.NotFoundf("no remote create")
	}
	return &cs, nil
}

// CreateRemotePayment asks a remote provider for the sale's QR (outside any
// transaction) and stores it (tx B). It is idempotent: a payment that has
// its QR, or a sale that no longer waits, is left alone. A refusal by the
// provider (settings missing, parameters refused) ends the sale (cancelled,
// its stock released) and is returned; a transient failure is returned for
// the job to retry.
func (s *Service) CreateRemotePayment(ctx context.Context, communityID, paymentID string) error {
	p, err := orders.GetPayment(ctx, s.DB, communityID, paymentID)
	if err != nil {
		return err
	}
	if p.QRPayload != nil || p.Status != orders.PaymentPending {
		return nil
	}
	o, err := orders.Get(ctx, s.DB, communityID, p.OrderID)
	if err != nil {
		return err
	}
	if o.Status != orders.AwaitingPayment || (o.ExpiresAt != nil && !s.now().Before(*o.ExpiresAt)) {
		_, err := s.DB.ExecContext(ctx, `UPDATE payment_creates SET status='abandoned', finished_at=now() WHERE payment_id=$1 AND status='pending'`, p.ID)
		return err
	}
	prov, err := s.provider(p)
	if err != nil {
		return err
	}
	row, err := s.saleRow(ctx, s.DB, o.ID)
	if err != nil {
		return err
	}
	desc := o.Number
	if st, err := s.stallName(ctx, communityID, row.LocationID); err == nil {
		desc = st + " " + o.Number
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE payment_creates SET attempts=attempts+1 WHERE payment_id=$1`, p.ID); err != nil {
		return err
	}
	exp := time.Time{}
	if p.ExpiresAt != nil {
		exp = *p.ExpiresAt
	}
	created, callErr := prov.Create(ctx, nil, payment.CreateRequest{CommunityID: communityID, PaymentID: p.ID, MerchantRef: p.MerchantRef,
		Amount: p.Amount, Description: desc, ExpiresAt: exp})
	if callErr != nil {
		refused := apperr.Is(callErr, apperr.Conflict) || apperr.Is(callErr, apperr.Invalid)
		if _, err := s.DB.ExecContext(ctx, `UPDATE payment_creates SET last_error=$2 WHERE payment_id=$1`, p.ID, callErr.Error()); err != nil {
			return err
		}
		if !refused {
			return fmt.Errorf("pos: create payment %s at %s: %w", p.MerchantRef, p.Provider, callErr)
		}
		slog.WarnContext(ctx, "provider refused to create a payment: the sale is cancelled", "order", o.Number, "provider", p.Provider, "err", callErr)
		if _, err := s.DB.ExecContext(ctx, `UPDATE payment_creates SET status='failed', finished_at=now() WHERE payment_id=$1 AND status='pending'`, p.ID); err != nil {
			return err
		}
		if _, err := s.end(ctx, communityID, o.ID, orders.Cancelled); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		}
		// A create refused because the trade was paid already (a code from
		// an earlier attempt): ending the sale found the payment and
		// confirmed it instead.
		if now, err := orders.Get(ctx, s.DB, communityID, o.ID); err == nil && now.Status == orders.Paid {
			return nil
		}
		return callErr
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		o, p, err := lockSale(ctx, tx, communityID, o.ID)
		if err != nil {
			return err
		}
		if o.Status != orders.AwaitingPayment || p.QRPayload != nil {
			_, err := tx.ExecContext(ctx, `UPDATE payment_creates SET status='abandoned', finished_at=now() WHERE payment_id=$1 AND status='pending'`, p.ID)
			return err
		}
		if err := orders.SetQRPayload(ctx, tx, p.ID, created.QRPayload); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payment_creates SET status='created', last_error='', finished_at=now() WHERE payment_id=$1`, p.ID); err != nil {
			return err
		}
		if _, err := jobs.Insert(ctx, tx, PollSaleArgs{CommunityID: communityID, OrderID: o.ID}, &jobs.InsertOpts{ScheduledAt: s.now().Add(pollDelay(0))}); err != nil {
			return err
		}
		return notify(ctx, tx, communityID, o.ID, o.Status)
	})
}

func (s *Service) stallName(ctx context.Context, communityID, locationID string) (string, error) {
	var name string
	err := s.DB.GetContext(ctx, &name, `SELECT name FROM locations WHERE community_id=$1 AND id=$2`, communityID, locationID)
	return name, err
}

// CreatePaymentWorker runs CreatePaymentArgs.
type CreatePaymentWorker struct {
	river.WorkerDefaults[CreatePaymentArgs]
	S *Service
}

func (w *CreatePaymentWorker) Work(ctx context.Context, job *river.Job[CreatePaymentArgs]) error {
	err := w.S.CreateRemotePayment(ctx, job.Args.CommunityID, job.Args.PaymentID)
	if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.NotFound) {
		return river.JobCancel(err) // refused: the sale was ended; retrying cannot help
	}
	return err
}

// NextRetry retries a failed create quickly: the customer is waiting.
func (w *CreatePaymentWorker) NextRetry(job *river.Job[CreatePaymentArgs]) time.Time {
	return time.Now().Add(time.Duration(1<<min(job.Attempt, 5)) * time.Second)
}

// PollSale polls one waiting sale and reports whether to poll again.
func (s *Service) PollSale(ctx context.Context, communityID, orderID string) (bool, error) {
	sale, err := s.PollPayment(ctx, communityID, orderID)
	if err != nil {
		return true, err
	}
	o := sale.Order
	return o.Status == orders.AwaitingPayment && o.ExpiresAt != nil && s.now().Before(*o.ExpiresAt), nil
}

// PollSaleWorker runs PollSaleArgs and schedules the next poll.
type PollSaleWorker struct {
	river.WorkerDefaults[PollSaleArgs]
	S *Service
}

func (w *PollSaleWorker) Work(ctx context.Context, job *river.Job[PollSaleArgs]) error {
	again, err := w.S.PollSale(ctx, job.Args.CommunityID, job.Args.OrderID)
	if err != nil {
		slog.WarnContext(ctx, "poll sale", "order", job.Args.OrderID, "err", err)
	}
	if !again || job.Args.N > 200 {
		return nil
	}
	next := job.Args
	next.N++
	return db.InTx(ctx, w.S.DB, func(tx *sqlx.Tx) error {
		_, err := jobs.Insert(ctx, tx, next, &jobs.InsertOpts{ScheduledAt: w.S.now().Add(pollDelay(next.N))})
		return err
	})
}

// autoRefunds reports whether money held after its sale ended is given back
// by itself: yes at providers that refund through their servers (WeChat
// Pay, Alipay; the sandbox when Service.AutoRefundSandbox). A static 收款码
// has no provider to refund through, so the treasurer hands it back; a
// wrong amount or released stock is the treasurer's call (complete or
// refund).
func (s *Service) autoRefunds(provider, reason string) bool {
	if reason != orders.HoldAfterExpired && reason != orders.HoldAfterCancelled {
		return false
	}
	switch provider {
	case payment.WeChatPay, payment.Alipay:
		return true
	case payment.Sandbox:
		return s.AutoRefundSandbox
	}
	return false
}

// autoRefundHeld starts the refund of money held after its sale ended, in
// the transaction that held it (rows locked), and marks it automatic.
func (s *Service) autoRefundHeld(ctx context.Context, tx *sqlx.Tx, o *orders.Order, susp *orders.Suspense) error {
	if _, err := s.RefundHeld(ctx, tx, o.CommunityID, susp.ID, ""); err != nil {
		return fmt.Errorf("pos: automatic refund of held payment: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO suspense_auto_refunds (suspense_id, community_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, susp.ID, o.CommunityID)
	return err
}

// AutoRefunded reports whether held money was refunded by the system.
func AutoRefunded(ctx context.Context, q sqlx.QueryerContext, suspenseID string) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM suspense_auto_refunds WHERE suspense_id=$1`, suspenseID)
	return n > 0, err
}

// freshRefundNotice trusts a fresh query over a refund notification that
// says the refund failed (notifications arrive out of order: a stale
// failure may come after, or before, the success): the provider's current
// answer replaces it. It returns the notification to apply, or ok false
// when the provider says the refund is still processing (nothing to apply).
func (s *Service) freshRefundNotice(ctx context.Context, prov payment.Provider, n payment.Notification) (payment.Notification, bool) {
	rq, is := prov.(payment.RefundQuerier)
	if !is || n.Type != payment.RefundFailed {
		return n, true
	}
	ref := n.MerchantRef
	if ref == "" {
		p, err := orders.PaymentByID(ctx, s.DB, n.PaymentID)
		if err != nil {
			return n, true
		}
		ref = p.MerchantRef
	}
	res, err := rq.RefundStatus(ctx, ref, n.RefundID)
	if err != nil {
		return n, true
	}
	switch res.Status {
	case payment.StatusSucceeded:
		n.Type = payment.RefundSucceeded
	case payment.StatusPending:
		return n, false
	}
	return n, true
}

// sendRefund is step B of every provider refund (SubmitRefund,
// SubmitSuspenseRefund). The attempt is committed before the call; when an
// earlier attempt may have reached the provider (the process died between
// the provider's answer and its booking), the provider is asked where the
// refund stands first, and a refund it already made is booked without being
// sent again. Otherwise the refund is sent, idempotently on its id.
func (s *Service) sendRefund(ctx context.Context, prov payment.Provider, req payment.RefundRequest) (payment.RefundResult, error) {
	var sends int
	if err := s.DB.GetContext(ctx, &sends, `INSERT INTO refund_sends (refund_key, sends) VALUES ($1, 1)
		ON CONFLICT (refund_key) DO UPDATE SET sends = refund_sends.sends + 1, last_sent_at = now() RETURNING sends`, req.RefundID); err != nil {
		return payment.RefundResult{}, err
	}
	if rq, ok := prov.(payment.RefundQuerier); ok && sends > 1 {
		if res, err := rq.RefundStatus(ctx, req.MerchantRef, req.RefundID); err == nil && res.Status == payment.StatusSucceeded {
			return res, nil
		}
	}
	return prov.Refund(ctx, req)
}

// applyRefundNotice books a provider's refund notification, in the
// notification's transaction (order and payment locked): the refund of
// lines of a sale (refunds), the refund of held money (the suspense id is
// its out_refund_no), or — a refund Shelin never asked for, e.g. made by
// hand on the merchant platform — nothing but a flag for the treasurer. It
// reports whether anything changed.
func (s *Service) applyRefundNotice(ctx context.Context, tx *sqlx.Tx, o *orders.Order, p *orders.Payment, n payment.Notification) (bool, error) {
	status := orders.PaymentSucceeded
	if n.Type == payment.RefundFailed {
		status = orders.PaymentFailed
	}
	msg := "notified " + n.Type
	if orders.ValidID(n.RefundID) {
		r, err := orders.LockRefund(ctx, tx, o.CommunityID, n.RefundID)
		switch {
		case err == nil && r.OrderID == o.ID:
			return s.finishRefund(ctx, tx, o, n.RefundID, status, n.TxnID, msg)
		case err != nil && !apperr.Is(err, apperr.NotFound):
			return false, err
		}
		susp, err := orders.LockSuspense(ctx, tx, o.CommunityID, n.RefundID)
		switch {
		case err == nil && susp.PaymentID == p.ID:
			if susp.Status != orders.SuspenseRefunding {
				return false, nil
			}
			return true, s.finishHeldRefund(ctx, tx, o, p, susp, status, n.TxnID, msg)
		case err != nil && !apperr.Is(err, apperr.NotFound):
			return false, err
		}
	}
	slog.WarnContext(ctx, "the provider reports a refund Shelin did not ask for", "order", o.Number, "refund", n.RefundID, "provider", p.Provider)
	return false, orders.Flag(ctx, tx, p.ID, "the provider reports refund "+n.RefundID+" that Shelin did not ask for")
}
