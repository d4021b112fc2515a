package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"shelin/internal/apperr"
)

// StatementSource downloads a provider's statement of a business day (the
// sandbox's own books; the WeChat Pay and Alipay bill download APIs when
// their adapters provide one).
type StatementSource interface {
	Statement(ctx context.Context, communityID, day string, loc *time.Location) ([]byte, error)
}

// SandboxSource is the sandbox provider's statement download.
type SandboxSource struct{ S *Service }

// Statement implements StatementSource.
func (src SandboxSource) Statement(ctx context.Context, cid, day string, loc *time.Location) ([]byte, error) {
	return SandboxStatement(ctx, src.S.DB, cid, day, loc)
}

// DownloadStatementsArgs is the scheduled download: for every provider with
// a source, yesterday's statement of each community that had its payments
// and has no statement of that day yet.
type DownloadStatementsArgs struct{}

// Kind implements river.JobArgs.
func (DownloadStatementsArgs) Kind() string { return "reconcile_download_statements" }

// DownloadWorker runs DownloadStatementsArgs.
type DownloadWorker struct {
	river.WorkerDefaults[DownloadStatementsArgs]
	S       *Service
	Sources map[string]StatementSource // provider → source
}

// Work implements river.Worker.
func (w *DownloadWorker) Work(ctx context.Context, _ *river.Job[DownloadStatementsArgs]) error {
	for provider, src := range w.Sources {
		var due []struct {
			ID string `db:"id"`
			TZ string `db:"timezone"`
		}
		if err := w.S.DB.SelectContext(ctx, &due, `
			SELECT c.id, c.timezone FROM communities c
			WHERE EXISTS (SELECT 1 FROM payments p WHERE p.community_id = c.id AND p.provider = $1
				AND p.succeeded_at >= now() - interval '2 days')`, provider); err != nil {
			return err
		}
		for _, c := range due {
			loc, err := time.LoadLocation(c.TZ)
			if err != nil {
				loc = time.FixedZone("CST", 8*3600)
			}
			day := w.S.now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
			var have bool
			if err := w.S.DB.GetContext(ctx, &have, `SELECT EXISTS (SELECT 1 FROM reconcile_statements WHERE community_id = $1 AND provider = $2
				AND day = $3 AND superseded_by IS NULL)`, c.ID, provider, day); err != nil {
				return err
			}
			if have {
				continue
			}
			data, err := src.Statement(ctx, c.ID, day, loc)
			if err != nil {
				return fmt.Errorf("download %s statement of %s: %w", provider, day, err)
			}
			_, err = w.S.Import(ctx, ImportInput{CommunityID: c.ID, Provider: provider, Filename: provider + "-" + day + ".csv", Data: data, Day: day})
			if err != nil && !apperr.Is(err, apperr.DayClosed) {
				return fmt.Errorf("import %s statement of %s: %w", provider, day, err)
			}
		}
	}
	return nil
}

// PeriodicJobs returns the scheduled statement download (hourly; a day's
// statement is fetched once, the morning after).
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return DownloadStatementsArgs{}, nil }, nil)}
}
