package pos

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/internal/jobs"
	"shelin/orders"
	"shelin/orders/payment"
)

// ExpireSaleArgs is the durable job inserted with every QR sale, scheduled
// at its expiry.
type ExpireSaleArgs struct {
	CommunityID string `json:"community_id"`
	OrderID     string `json:"order_id"`
}

func (ExpireSaleArgs) Kind() string { return "pos_sale_expire" }

// SweepSalesArgs is the periodic safety net for expiry jobs that were lost.
type SweepSalesArgs struct{}

func (SweepSalesArgs) Kind() string { return "pos_sale_sweep" }

// PollPaymentsArgs asks providers about QR sales still awaiting payment, in
// case a callback was lost (the periodic safety net of the webhook).
type PollPaymentsArgs struct{}

func (PollPaymentsArgs) Kind() string { return "pos_payment_poll" }

// PollWorker runs PollPaymentsArgs.
type PollWorker struct {
	river.WorkerDefaults[PollPaymentsArgs]
	S *Service
}

func (w *PollWorker) Work(ctx context.Context, job *river.Job[PollPaymentsArgs]) error {
	_, err := w.S.PollAwaiting(ctx, time.Minute, 100)
	return err
}

// PollAwaiting asks the providers about QR sales that have been awaiting
// payment for longer than olderThan and confirms the paid ones. It returns
// how many it confirmed.
func (s *Service) PollAwaiting(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	due, err := orders.AwaitingQR(ctx, s.DB, s.now().Add(-olderThan), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		sale, err := s.PollPayment(ctx, d.CommunityID, d.ID)
		if err != nil {
			slog.WarnContext(ctx, "poll payment", "order", d.ID, "err", err)
			continue
		}
		if sale.Order.Status == orders.Paid {
			n++
		}
	}
	return n, nil
}

// DeliverNotificationArgs is one sandbox notification on its way to the
// webhook; River retries it until the webhook answers 2xx.
type DeliverNotificationArgs struct {
	Body string `json:"body"`
}

func (DeliverNotificationArgs) Kind() string { return "sandbox_notification_deliver" }

// EnqueueSandboxDelivery is the SandboxProvider.Enqueue hook: the delivery
// job is inserted in the wallet's transaction.
func EnqueueSandboxDelivery(ctx context.Context, tx *sqlx.Tx, body []byte) error {
	_, err := jobs.Insert(ctx, tx, DeliverNotificationArgs{Body: string(body)}, &jobs.InsertOpts{MaxAttempts: 15})
	return err
}

// ExpireWorker runs ExpireSaleArgs.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireSaleArgs]
	S *Service
}

func (w *ExpireWorker) Work(ctx context.Context, job *river.Job[ExpireSaleArgs]) error {
	_, err := w.S.ExpireSale(ctx, job.Args.CommunityID, job.Args.OrderID)
	return err
}

// SubmitRefundArgs is the outbox job of a provider refund: inserted with the
// refund, it calls the provider outside any transaction and books the answer.
type SubmitRefundArgs struct {
	CommunityID string `json:"community_id"`
	RefundID    string `json:"refund_id"`
}

func (SubmitRefundArgs) Kind() string { return "pos_refund_submit" }

// RefundWorker runs SubmitRefundArgs.
type RefundWorker struct {
	river.WorkerDefaults[SubmitRefundArgs]
	S *Service
}

func (w *RefundWorker) Work(ctx context.Context, job *river.Job[SubmitRefundArgs]) error {
	return w.S.SubmitRefund(ctx, job.Args.CommunityID, job.Args.RefundID)
}

// SubmitSuspenseRefundArgs is the outbox job of a refund of held money.
type SubmitSuspenseRefundArgs struct {
	CommunityID string `json:"community_id"`
	SuspenseID  string `json:"suspense_id"`
}

func (SubmitSuspenseRefundArgs) Kind() string { return "pos_suspense_refund_submit" }

// SuspenseRefundWorker runs SubmitSuspenseRefundArgs.
type SuspenseRefundWorker struct {
	river.WorkerDefaults[SubmitSuspenseRefundArgs]
	S *Service
}

func (w *SuspenseRefundWorker) Work(ctx context.Context, job *river.Job[SubmitSuspenseRefundArgs]) error {
	return w.S.SubmitSuspenseRefund(ctx, job.Args.CommunityID, job.Args.SuspenseID)
}

// SweepRefundsArgs re-submits provider refunds still pending after a while
// (a lost job, a provider that answered "processing").
type SweepRefundsArgs struct{}

func (SweepRefundsArgs) Kind() string { return "pos_refund_sweep" }

// SweepRefundsWorker runs SweepRefundsArgs.
type SweepRefundsWorker struct {
	river.WorkerDefaults[SweepRefundsArgs]
	S *Service
}

func (w *SweepRefundsWorker) Work(ctx context.Context, job *river.Job[SweepRefundsArgs]) error {
	_, err := w.S.SweepRefunds(ctx, 2*time.Minute, 100)
	return err
}

// SweepRefunds submits again every provider refund pending for longer than
// olderThan and returns how many it asked the provider about without error
// (one another worker finished meanwhile is not counted).
func (s *Service) SweepRefunds(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	due, err := orders.PendingRefunds(ctx, s.DB, s.now().Add(-olderThan), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		asked, err := s.submitRefund(ctx, d.CommunityID, d.ID)
		if err != nil {
			slog.WarnContext(ctx, "submit refund", "refund", d.ID, "err", err)
			continue
		}
		if asked {
			n++
		}
	}
	return n, nil
}

// SweepWorker expires every overdue QR sale.
type SweepWorker struct {
	river.WorkerDefaults[SweepSalesArgs]
	S *Service
}

func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepSalesArgs]) error {
	_, err := w.S.SweepExpired(ctx, 200)
	return err
}

// SweepExpired expires overdue QR sales and returns how many it expired.
func (s *Service) SweepExpired(ctx context.Context, limit int) (int, error) {
	due, err := orders.ExpireDue(ctx, s.DB, s.now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		ok, err := s.ExpireSale(ctx, d.CommunityID, d.ID)
		if err != nil {
			slog.WarnContext(ctx, "expire sale", "order", d.ID, "err", err)
			continue
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// DeliverWorker posts sandbox notifications to the webhook.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverNotificationArgs]
	Sandbox *payment.SandboxProvider
}

func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverNotificationArgs]) error {
	err := w.Sandbox.Deliver(ctx, []byte(job.Args.Body))
	var de *payment.DeliveryError
	if errors.As(err, &de) && de.Permanent() {
		slog.WarnContext(ctx, "sandbox notification refused", "status", de.Status, "body", de.Body)
		return river.JobCancel(err)
	}
	return err
}

// NextRetry retries deliveries quickly at first, like a provider would.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverNotificationArgs]) time.Time {
	d := time.Duration(1<<min(job.Attempt, 10)) * time.Second
	return time.Now().Add(d)
}

// RegisterWorkers adds the stall's workers; sandbox may be nil.
func (s *Service) RegisterWorkers(w *river.Workers, sandbox *payment.SandboxProvider) {
	river.AddWorker(w, &ExpireWorker{S: s})
	river.AddWorker(w, &SweepWorker{S: s})
	river.AddWorker(w, &PollWorker{S: s})
	river.AddWorker(w, &RefundWorker{S: s})
	river.AddWorker(w, &SuspenseRefundWorker{S: s})
	river.AddWorker(w, &SweepRefundsWorker{S: s})
	river.AddWorker(w, &CreatePaymentWorker{S: s})
	river.AddWorker(w, &PollSaleWorker{S: s})
	river.AddWorker(w, &DownloadBillsWorker{S: s})
	if sandbox != nil {
		river.AddWorker(w, &DeliverWorker{Sandbox: sandbox})
	}
}

// PeriodicJobs returns the stall's safety nets: the expiry sweep and the
// payment poll.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SweepSalesArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return PollPaymentsArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SweepRefundsArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return DownloadBillsArgs{}, nil }, nil),
	}
}
