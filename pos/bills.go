package pos

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"shelin/orders/payment"
)

// Bill download: every hour from 10:00 (China time) the trade bills of the
// day before are fetched for every community's WeChat Pay and Alipay
// account and kept (provider_bills) for reconciliation. A bill is fetched
// once; a failure is retried the next hour.

// BillFetcher is a provider that offers a daily trade bill.
type BillFetcher interface {
	TradeBill(ctx context.Context, communityID, date string) (*payment.Bill, error)
}

// DownloadBillsArgs is the hourly bill download.
type DownloadBillsArgs struct{}

func (DownloadBillsArgs) Kind() string { return "pos_bills_download" }

// DownloadBillsWorker runs DownloadBillsArgs.
type DownloadBillsWorker struct {
	river.WorkerDefaults[DownloadBillsArgs]
	S *Service
}

func (w *DownloadBillsWorker) Work(ctx context.Context, _ *river.Job[DownloadBillsArgs]) error {
	_, err := w.S.DownloadBills(ctx, w.S.now())
	return err
}

// billsFrom is when the day before's bills are ready (WeChat: after 10:00).
const billsFrom = 10

// DownloadBills fetches yesterday's bills (as of now, China time) not
// fetched yet, and returns how many it stored. Before 10:00 it does nothing.
func (s *Service) DownloadBills(ctx context.Context, now time.Time) (int, error) {
	china := now.In(payment.ChinaTime)
	if china.Hour() < billsFrom {
		return 0, nil
	}
	date := china.AddDate(0, 0, -1).Format("2006-01-02")
	var due []struct {
		CommunityID string `db:"community_id"`
		Provider    string `db:"provider"`
	}
	if err := sqlx.SelectContext(ctx, s.DB, &due, `SELECT m.community_id, m.provider FROM payment_merchants m
		WHERE NOT EXISTS (SELECT 1 FROM provider_bills b WHERE b.community_id=m.community_id AND b.provider=m.provider AND b.bill_date=$1)
		ORDER BY m.community_id, m.provider`, date); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		p, err := s.Providers.Get(d.Provider)
		if err != nil {
			continue
		}
		f, ok := p.(BillFetcher)
		if !ok {
			continue
		}
		b, err := f.TradeBill(ctx, d.CommunityID, date)
		if err != nil {
			slog.WarnContext(ctx, "bill download", "community", d.CommunityID, "provider", d.Provider, "date", date, "err", err)
			continue
		}
		content := b.Content
		if content == nil {
			content = []byte{}
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO provider_bills (community_id, provider, bill_date, rows, content) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT DO NOTHING`, d.CommunityID, d.Provider, date, len(b.Rows), content); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// StoredBill is a downloaded bill (for reconciliation).
type StoredBill struct {
	Provider  string    `db:"provider"`
	Date      time.Time `db:"bill_date"`
	Rows      int       `db:"rows"`
	Content   []byte    `db:"content"`
	FetchedAt time.Time `db:"fetched_at"`
}

// Bill returns a community's downloaded bill of a day, or sql.ErrNoRows.
func (s *Service) Bill(ctx context.Context, q sqlx.QueryerContext, communityID, provider, date string) (*StoredBill, error) {
	var b StoredBill
	err := sqlx.GetContext(ctx, q, &b, `SELECT provider, bill_date, rows, content, fetched_at FROM provider_bills
		WHERE community_id=$1 AND provider=$2 AND bill_date=$3`, communityID, provider, date)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

var (
	_ BillFetcher = (*payment.WeChatProvider)(nil)
	_ BillFetcher = (*payment.AlipayProvider)(nil)
)
