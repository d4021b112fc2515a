package groupbuy

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// SettleArgs settles a campaign at its deadline (inserted with the campaign).
type SettleArgs struct {
	CommunityID string `json:"community_id"`
	CampaignID  string `json:"campaign_id"`
}

func (SettleArgs) Kind() string { return "groupbuy_settle" }

// ExpireJoinArgs ends an unpaid join at its expiry (inserted with the join).
type ExpireJoinArgs struct {
	CommunityID string `json:"community_id"`
	JoinID      string `json:"join_id"`
}

func (ExpireJoinArgs) Kind() string { return "groupbuy_join_expire" }

// SubmitRefundArgs is the outbox job of a group-buy refund.
type SubmitRefundArgs struct {
	CommunityID string `json:"community_id"`
	RefundID    string `json:"refund_id"`
}

func (SubmitRefundArgs) Kind() string { return "groupbuy_refund_submit" }

// SweepArgs is the periodic safety net: overdue joins, campaigns past their
// deadline and refunds still pending.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "groupbuy_sweep" }

type settleWorker struct {
	river.WorkerDefaults[SettleArgs]
	s *Service
}

func (w *settleWorker) Work(ctx context.Context, job *river.Job[SettleArgs]) error {
	c, err := w.s.CampaignOfID(ctx, w.s.DB, job.Args.CampaignID)
	if err != nil {
		return err
	}
	if c.Status != Open {
		return nil
	}
	if w.s.now().Before(c.Deadline) {
		return river.JobSnooze(c.Deadline.Sub(w.s.now()))
	}
	_, err = w.s.Settle(ctx, job.Args.CommunityID, job.Args.CampaignID)
	return err
}

type expireWorker struct {
	river.WorkerDefaults[ExpireJoinArgs]
	s *Service
}

func (w *expireWorker) Work(ctx context.Context, job *river.Job[ExpireJoinArgs]) error {
	_, err := w.s.ExpireJoin(ctx, job.Args.CommunityID, job.Args.JoinID)
	return err
}

type refundWorker struct {
	river.WorkerDefaults[SubmitRefundArgs]
	s *Service
}

func (w *refundWorker) Work(ctx context.Context, job *river.Job[SubmitRefundArgs]) error {
	return w.s.SubmitRefund(ctx, job.Args.CommunityID, job.Args.RefundID)
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	if _, err := w.s.SweepExpired(ctx, 200); err != nil {
		return err
	}
	if _, err := w.s.SettleDue(ctx, 20); err != nil {
		return err
	}
	_, err := w.s.SweepRefunds(ctx, 2*time.Minute, 100)
	return err
}

// RegisterWorkers adds the group-buy workers.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &settleWorker{s: s})
	river.AddWorker(w, &expireWorker{s: s})
	river.AddWorker(w, &refundWorker{s: s})
	river.AddWorker(w, &sweepWorker{s: s})
}

// PeriodicJobs returns the group-buy safety net (every minute).
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, nil)}
}
