package fund

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

// Headline is what the transparency page shows first.
type Headline struct {
	FundInjected       money.Amount `json:"fund_injected"`   // net proceeds after refunds, all sources
	ProjectsLanded     int          `json:"projects_landed"` // approved, funded or completed
	ProjectsCompleted  int          `json:"projects_completed"`
	MoneyLeveraged     money.Amount `json:"money_leveraged"` // fund part + residents' part of landed projects
	ResidentsBenefited int          `json:"residents_benefited"`
}

// PublicProject is a project as the public sees it (no personal data).
type PublicProject struct {
	ID                 string          `json:"id"`
	Title              string          `json:"title"`
	MicroGrid          string          `json:"micro_grid"`
	Purpose            string          `json:"purpose"`
	Status             string          `json:"status"`
	Budget             money.Amount    `json:"budget"`
	FundPart           money.Amount    `json:"fund_part"`      // committed (or asked, while proposed)
	ResidentsPart      money.Amount    `json:"residents_part"` // crowdfunded so far
	Disbursed          money.Amount    `json:"disbursed"`
	Leverage           decimal.Decimal `json:"leverage"`
	ResidentsBenefited *int            `json:"residents_benefited"`
	FundPercent        float64         `json:"-"` // of budget, for progress bars
	ResidentsPercent   float64         `json:"-"`
}

// PublicEntry is a recent ledger entry without personal data.
type PublicEntry struct {
	At     time.Time    `json:"at"`
	Kind   string       `json:"kind"`   // proceeds, reversal, commitment, contribution, disbursement
	Source string       `json:"source"` // sale, groupbuy, donation, project
	Label  string       `json:"label"`  // order number or project title, never a person
	Amount money.Amount `json:"amount"` // effect on the fund or the project
}

// MonthFlow is money in and out of the fund in one month.
type MonthFlow struct {
	Month string       `json:"month"` // YYYY-MM
	In    money.Amount `json:"in"`
	Out   money.Amount `json:"out"`
}

// Transparency is everything on the public page of a community's fund.
type Transparency struct {
	Headline     Headline        `json:"headline"`
	Summary      Summary         `json:"fund"`
	Earmarks     []EarmarkPart   `json:"earmarks"`
	InBySource   []EarmarkPart   `json:"in_by_source"` // Name = sale | groupbuy | donation
	OutByProject []EarmarkPart   `json:"out_by_project"`
	Projects     []PublicProject `json:"projects"`
	Recent       []PublicEntry   `json:"recent"`
	Months       []MonthFlow     `json:"months"`
}

// PublicTransparency gathers the public page's figures for a community.
// Simulated (sandbox) money is left out of every money figure: the fund's
// balance, inflow, earmarks, sources, months and recent entries.
func (l *Ledger) PublicTransparency(ctx context.Context, q sqlx.QueryerContext, communityID string) (Transparency, error) {
	s, err := l.PublicSummary(ctx, q, communityID)
	if err != nil {
		return Transparency{}, err
	}
	t := Transparency{Summary: s, Earmarks: s.Earmarks, InBySource: []EarmarkPart{}, OutByProject: []EarmarkPart{},
		Projects: []PublicProject{}, Recent: []PublicEntry{}, Months: []MonthFlow{}}
	t.Headline.FundInjected = s.InflowTotal
	if t.Earmarks == nil {
		t.Earmarks = []EarmarkPart{}
	}
	var bySource []struct {
		Kind   string       `db:"source_kind"`
		Amount money.Amount `db:"amount"`
	}
	if err := sqlx.SelectContext(ctx, q, &bySource, `
		SELECT k.source_kind, COALESCE(sum(p.net - p.reversed_net), 0) AS amount
		FROM (VALUES ('sale', 1), ('groupbuy', 2), ('donation', 3)) AS k(source_kind, o)
		LEFT JOIN fund_proceeds p ON p.source_kind = k.source_kind AND p.community_id = $1 AND NOT p.simulated
		GROUP BY k.source_kind, k.o ORDER BY k.o`, communityID); err != nil {
		return Transparency{}, fmt.Errorf("fund: in by source: %w", err)
	}
	for _, b := range bySource {
		t.InBySource = append(t.InBySource, EarmarkPart{Name: b.Kind, Amount: b.Amount})
	}
	ps, err := l.ListProjects(ctx, q, communityID)
	if err != nil {
		return Transparency{}, err
	}
	for _, p := range ps {
		if p.Status == StatusRejected {
			continue
		}
		pp := PublicProject{ID: p.ID, Title: p.Title, MicroGrid: p.MicroGrid, Purpose: p.Purpose, Status: p.Status,
			Budget: p.Budget, FundPart: p.FundCommitted, ResidentsPart: p.Crowdfunded, Disbursed: p.Disbursed,
			Leverage: p.Leverage, ResidentsBenefited: p.ResidentsBenefited}
		if p.Status == StatusProposed {
			pp.FundPart = money.Zero
		}
		b, _ := p.Budget.Decimal().Float64()
		if b > 0 {
			f, _ := pp.FundPart.Decimal().Float64()
			r, _ := pp.ResidentsPart.Decimal().Float64()
			pp.FundPercent, pp.ResidentsPercent = 100*f/b, 100*r/b
		}
		t.Projects = append(t.Projects, pp)
		if p.Status != StatusProposed {
			t.Headline.ProjectsLanded++
			t.Headline.MoneyLeveraged = t.Headline.MoneyLeveraged.Add(p.FundCommitted).Add(p.Crowdfunded)
			if p.FundCommitted.IsPositive() {
				t.OutByProject = append(t.OutByProject, EarmarkPart{Name: p.Title, Amount: p.FundCommitted})
			}
		}
		if p.Status == StatusCompleted {
			t.Headline.ProjectsCompleted++
		}
		if p.ResidentsBenefited != nil {
			t.Headline.ResidentsBenefited += *p.ResidentsBenefited
		}
	}
	recent, _, err := l.Entries(ctx, q, communityID, EntryFilter{Limit: 12, RealOnly: true})
	if err != nil {
		return Transparency{}, err
	}
	for _, e := range recent {
		pe := PublicEntry{At: e.At, Kind: e.Kind, Source: e.SourceKind, Label: e.SourceRef, Amount: e.FundAmount}
		switch e.Kind {
		case "contribution", "disbursement":
			pe.Label = projectTitle(ps, e.SourceID) // never the contributor or payee
			for _, p := range e.Postings {
				if p.Kind == KindProject {
					pe.Amount = p.Amount.Neg()
				}
			}
		case "commitment":
			pe.Label = projectTitle(ps, e.SourceID)
			pe.Amount = e.FundAmount
		case "reversal":
			pe.Label = ""
		case "proceeds":
			if e.SourceKind == SourceDonation {
				pe.Label = "" // a donor's name is theirs to share, not ours
			}
		}
		t.Recent = append(t.Recent, pe)
	}
	if err := sqlx.SelectContext(ctx, q, &t.Months, `
		WITH m AS (
			SELECT to_char(date_trunc('month', l.at), 'YYYY-MM') AS month, (l.original - l.reversed - l.deficit) AS inflow, 0::numeric AS outflow
			FROM `+realLots+` l
			UNION ALL
			SELECT to_char(date_trunc('month', a.at), 'YYYY-MM'), 0, a.amount FROM fund_lot_allocations a JOIN `+realLots+` l ON l.id = a.lot_id
		)
		SELECT month, sum(inflow) AS "in", sum(outflow) AS "out" FROM m GROUP BY month ORDER BY month DESC LIMIT 12`, communityID, true); err != nil {
		return Transparency{}, fmt.Errorf("fund: months: %w", err)
	}
	for i, j := 0, len(t.Months)-1; i < j; i, j = i+1, j-1 {
		t.Months[i], t.Months[j] = t.Months[j], t.Months[i]
	}
	return t, nil
}

func projectTitle(ps []Project, id string) string {
	for _, p := range ps {
		if p.ID == id {
			return p.Title
		}
	}
	return ""
}

// TraceByToken resolves a public trace token (from a receipt) to the
// community and the source's trace.
func (l *Ledger) TraceByToken(ctx context.Context, q sqlx.QueryerContext, token string) (string, SourceTrace, error) {
	if len(token) != 32 {
		return "", SourceTrace{}, apperr.NotFoundf("no such receipt")
	}
	var row struct {
		CommunityID string `db:"community_id"`
		Kind        string `db:"source_kind"`
		ID          string `db:"source_id"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT community_id, source_kind, source_id FROM fund_proceeds WHERE trace_token = $1`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", SourceTrace{}, apperr.NotFoundf("no such receipt")
	}
	if err != nil {
		return "", SourceTrace{}, err
	}
	t, err := l.TraceSource(ctx, q, row.CommunityID, row.Kind, row.ID)
	return row.CommunityID, t, err
}
