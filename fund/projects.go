package fund

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/money"
)

// Project statuses.
const (
	StatusProposed  = "proposed"  // a 邻长 proposed it; residents may already contribute
	StatusApproved  = "approved"  // the fund committed its share (lots allocated)
	StatusFunded    = "funded"    // fund share + residents' money cover the budget
	StatusCompleted = "completed" // done; residents benefited recorded
	StatusRejected  = "rejected"
)

// What a ShortError is short of.
const (
	ShortFund      = "fund"      // approval: the fund's available lots cannot cover the share
	ShortProject   = "project"   // disbursement: more than the project holds
	ShortResidents = "residents" // contribution: more than the project still needs
)

// ShortError is the conflict of an amount that is more than there is (or
// than is needed); it carries the figures so that pages can say it plainly.
// apperr.As finds the conflict inside it.
type ShortError struct {
	What       string
	Have, Want money.Amount
	err        *apperr.Error
}

func (e *ShortError) Error() string { return e.err.Error() }
func (e *ShortError) Unwrap() error { return e.err }

// ProjectInput is a proposal (微改造 / 邻长项目).
type ProjectInput struct {
	Title       string
	Description string
	Purpose     string // earmark the project serves; "" or General: only general money
	Budget      money.Amount
	FundShare   money.Amount // what the fund is asked to pay; the rest is crowdfunded
	MicroGrid   string       // micro-grid id or name, optional
	ProposedBy  string       // user id, optional
	At          time.Time    // zero: now
}

// Project is a co-funded project and where its money stands.
type Project struct {
	ID                 string          `json:"id" db:"id"`
	Title              string          `json:"title" db:"title"`
	Description        string          `json:"description" db:"description"`
	Purpose            string          `json:"purpose" db:"purpose"`
	MicroGridID        *string         `json:"micro_grid_id" db:"micro_grid_id"`
	MicroGrid          string          `json:"micro_grid" db:"micro_grid"`
	Budget             money.Amount    `json:"budget" db:"budget"`
	FundShare          money.Amount    `json:"fund_share" db:"fund_share"`
	FundCommitted      money.Amount    `json:"fund_committed" db:"fund_committed"`
	Crowdfunded        money.Amount    `json:"crowdfunded" db:"crowdfunded"`
	Disbursed          money.Amount    `json:"disbursed" db:"disbursed"`
	Balance            money.Amount    `json:"balance" db:"-"` // what it holds: committed + crowdfunded − disbursed
	CrowdfundTarget    money.Amount    `json:"crowdfund_target" db:"-"`
	Leverage           decimal.Decimal `json:"leverage" db:"-"` // (fund part + residents' part) ÷ fund share
	Status             string          `json:"status" db:"status"`
	ResidentsBenefited *int            `json:"residents_benefited" db:"residents_benefited"`
	ProposedBy         *string         `json:"proposed_by" db:"proposed_by"`
	ApprovedAt         *time.Time      `json:"approved_at" db:"approved_at"`
	CompletedAt        *time.Time      `json:"completed_at" db:"completed_at"`
	CreatedAt          time.Time       `json:"created_at" db:"created_at"`
}

func (p *Project) derive() {
	p.Balance = p.FundCommitted.Add(p.Crowdfunded).Sub(p.Disbursed)
	p.CrowdfundTarget = p.Budget.Sub(p.FundShare)
	p.Leverage = decimal.Zero
	if p.FundShare.IsPositive() {
		total := p.FundShare.Add(p.Crowdfunded)
		if p.Crowdfunded.LessThan(p.CrowdfundTarget) && p.Status != StatusCompleted {
			total = p.Budget // planned, while residents are still giving
		}
		p.Leverage = total.Decimal().Div(p.FundShare.Decimal()).Round(2)
	}
}

const projectCols = `p.id, p.title, p.description, p.purpose, p.micro_grid_id, COALESCE(g.name, '') AS micro_grid,
	p.budget, p.fund_share, p.fund_committed, p.crowdfunded, p.disbursed, p.status, p.residents_benefited,
	p.proposed_by, p.approved_at, p.completed_at, p.created_at`

func getProject(ctx context.Context, q sqlx.QueryerContext, communityID, projectID string, lock bool) (Project, error) {
	if !isUUID(communityID) || !isUUID(projectID) {
		return Project{}, apperr.NotFoundf("project not found")
	}
	query := `SELECT ` + projectCols + ` FROM fund_projects p LEFT JOIN micro_grids g ON g.id = p.micro_grid_id
		WHERE p.community_id = $1 AND p.id = $2`
	if lock {
		query += ` FOR UPDATE OF p`
	}
	var p Project
	err := sqlx.GetContext(ctx, q, &p, query, communityID, projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, apperr.NotFoundf("project not found")
	}
	if err != nil {
		return Project{}, fmt.Errorf("fund: project: %w", err)
	}
	p.derive()
	return p, nil
}

// GetProject returns one project of the community.
func (l *Ledger) GetProject(ctx context.Context, q sqlx.QueryerContext, communityID, projectID string) (Project, error) {
	return getProject(ctx, q, communityID, projectID, false)
}

// ListProjects returns the community's projects, newest first.
func (l *Ledger) ListProjects(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Project, error) {
	if !isUUID(communityID) {
		return nil, apperr.NotFoundf("community not found")
	}
	ps := []Project{}
	if err := sqlx.SelectContext(ctx, q, &ps, `SELECT `+projectCols+` FROM fund_projects p LEFT JOIN micro_grids g ON g.id = p.micro_grid_id
		WHERE p.community_id = $1 ORDER BY p.created_at DESC, p.id`, communityID); err != nil {
		return nil, fmt.Errorf("fund: projects: %w", err)
	}
	for i := range ps {
		ps[i].derive()
	}
	return ps, nil
}

// ProposeProject records a proposal.
func (l *Ledger) ProposeProject(ctx context.Context, tx *sqlx.Tx, communityID string, in ProjectInput) (Project, error) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || len([]rune(in.Title)) > 200 {
		return Project{}, apperr.Field("title", "a project needs a title of 1–200 characters")
	}
	if len(in.Description) > 10000 {
		return Project{}, apperr.Field("description", "the description is too long")
	}
	if !in.Budget.IsPositive() {
		return Project{}, apperr.Field("budget", "the budget must be greater than zero")
	}
	if in.FundShare.IsNegative() {
		return Project{}, apperr.Field("fund_share", "the fund share must not be negative")
	}
	if in.FundShare.GreaterThan(in.Budget) {
		return Project{}, apperr.Field("fund_share", "the fund share (%s) cannot exceed the budget (%s)", in.FundShare, in.Budget)
	}
	if in.Purpose == "" {
		in.Purpose = General
	}
	if err := checkCommunity(ctx, tx, communityID); err != nil {
		return Project{}, err
	}
	var grid *string
	if in.MicroGrid != "" {
		var id string
		err := tx.GetContext(ctx, &id, `SELECT id FROM micro_grids WHERE community_id = $1 AND (id::text = $2 OR name = $2) LIMIT 1`, communityID, in.MicroGrid)
		if errors.Is(err, sql.ErrNoRows) {
			return Project{}, apperr.Field("micro_grid", "no such micro-grid in this community")
		}
		if err != nil {
			return Project{}, err
		}
		grid = &id
	}
	var by *string
	if in.ProposedBy != "" {
		by = &in.ProposedBy
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	var id string
	if err := tx.GetContext(ctx, &id, `
		INSERT INTO fund_projects (community_id, micro_grid_id, title, description, purpose, budget, fund_share, proposed_by, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
		communityID, grid, in.Title, in.Description, in.Purpose, in.Budget, in.FundShare, by, at); err != nil {
		return Project{}, fmt.Errorf("fund: insert project: %w", err)
	}
	return getProject(ctx, tx, communityID, id, false)
}

type candidateLot struct {
	ID        string       `db:"id"`
	Earmark   string       `db:"earmark"`
	Remaining money.Amount `db:"remaining"`
}

// ApproveProject commits the fund's share: lots are allocated first-in-
// first-out, the project's own earmark first, then general money. When the
// fund cannot cover the share the answer is a conflict and nothing changes.
func (l *Ledger) ApproveProject(ctx context.Context, tx *sqlx.Tx, communityID, projectID, userID string, at time.Time) (Project, error) {
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Project{}, err
	}
	if p.Status != StatusProposed {
		return Project{}, apperr.Conflictf("the project is %s, only a proposed project can be approved", p.Status)
	}
	if at.IsZero() {
		at = time.Now()
	}
	earmarks := []string{General}
	if p.Purpose != General {
		earmarks = []string{p.Purpose, General}
	}
	var alloc []struct {
		lot    candidateLot
		amount money.Amount
	}
	if p.FundShare.IsPositive() {
		// Lock every candidate lot in one global order (seq, the database
		// sequence: never the app clock), the order refunds lock lots in, then
		// consume them by priority, first in first out.
		var lots []candidateLot
		if err := tx.SelectContext(ctx, &lots, `
			SELECT id, earmark, remaining FROM fund_lots
			WHERE community_id = $1 AND earmark = ANY($2) AND remaining > 0
			ORDER BY seq FOR UPDATE`, communityID, pqArray(earmarks)); err != nil {
			return Project{}, fmt.Errorf("fund: lock lots: %w", err)
		}
		need := p.FundShare
		for _, em := range earmarks {
			for _, lt := range lots {
				if lt.Earmark != em || need.IsZero() {
					continue
				}
				a := money.Min(need, lt.Remaining)
				alloc = append(alloc, struct {
					lot    candidateLot
					amount money.Amount
				}{lt, a})
				need = need.Sub(a)
			}
		}
		if need.IsPositive() {
			have := p.FundShare.Sub(need)
			return Project{}, &ShortError{What: ShortFund, Have: have, Want: p.FundShare,
				err: apperr.Conflictf("the fund has only %s available for this project (%s), it needs %s",
					have.Yuan(), strings.Join(earmarks, " + "), p.FundShare.Yuan())}
		}
		postings := []posting{{ProjectAccount(p.ID), p.FundShare.Neg()}}
		for _, a := range alloc {
			postings = append(postings, posting{Earmark(a.lot.Earmark), a.amount})
		}
		entryID, err := writeEntry(ctx, tx, entry{
			communityID: communityID, kind: "commitment", sourceKind: "project", sourceID: p.ID, sourceRef: p.Title,
			memo: "fund share committed: " + p.Title, at: at, postings: postings,
		})
		if err != nil {
			return Project{}, err
		}
		for _, a := range alloc {
			if _, err := tx.ExecContext(ctx, `UPDATE fund_lots SET remaining = remaining - $2, allocated = allocated + $2 WHERE id = $1`, a.lot.ID, a.amount); err != nil {
				return Project{}, fmt.Errorf("fund: allocate lot: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_lot_allocations (community_id, lot_id, project_id, entry_id, amount, at) VALUES ($1,$2,$3,$4,$5,$6)`,
				communityID, a.lot.ID, p.ID, entryID, a.amount, at); err != nil {
				return Project{}, fmt.Errorf("fund: insert allocation: %w", err)
			}
		}
	}
	var by *string
	if userID != "" {
		by = &userID
	}
	status := StatusApproved
	if !p.FundShare.Add(p.Crowdfunded).LessThan(p.Budget) {
		status = StatusFunded
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET status = $3, fund_committed = fund_share, approved_by = $4, approved_at = $5
		WHERE community_id = $1 AND id = $2`, communityID, p.ID, status, by, at); err != nil {
		return Project{}, fmt.Errorf("fund: approve: %w", err)
	}
	return getProject(ctx, tx, communityID, p.ID, false)
}

// RejectProject turns down a proposal. Residents' money already collected
// stays on the project (refunding it is a separate, visible step).
func (l *Ledger) RejectProject(ctx context.Context, tx *sqlx.Tx, communityID, projectID string) (Project, error) {
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Project{}, err
	}
	if p.Status != StatusProposed {
		return Project{}, apperr.Conflictf("the project is %s, only a proposed project can be rejected", p.Status)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET status = 'rejected' WHERE id = $1`, p.ID); err != nil {
		return Project{}, err
	}
	return getProject(ctx, tx, communityID, p.ID, false)
}

// ContributionInput is money residents give to a project.
type ContributionInput struct {
	Amount      money.Amount
	Method      string // "cash" (collected by the 邻长) or "qr"
	Contributor string // optional name, never shown publicly
	ReceiptNo   string // the paper receipt's number; generated when empty
	CollectedBy string // user id, optional
	At          time.Time
}

// Contribution is a recorded contribution.
type Contribution struct {
	ID          string       `json:"id" db:"id"`
	ProjectID   string       `json:"project_id" db:"project_id"`
	EntryID     string       `json:"entry_id" db:"entry_id"`
	Amount      money.Amount `json:"amount" db:"amount"`
	Method      string       `json:"method" db:"method"`
	Contributor string       `json:"contributor" db:"contributor"`
	ReceiptNo   string       `json:"receipt_no" db:"receipt_no"`
	At          time.Time    `json:"at" db:"at"`
	RefundedAt  *time.Time   `json:"refunded_at" db:"refunded_at"` // set when given back (see RefundContribution)
}

// Contribute records residents' money for a project; the project becomes
// funded when the fund share and residents' money cover the budget. Money
// beyond what the project still needs is refused (conflict).
func (l *Ledger) Contribute(ctx context.Context, tx *sqlx.Tx, communityID, projectID string, in ContributionInput) (Contribution, Project, error) {
	if !in.Amount.IsPositive() {
		return Contribution{}, Project{}, apperr.Field("amount", "the amount must be greater than zero")
	}
	if in.Method != "cash" && in.Method != "qr" {
		return Contribution{}, Project{}, apperr.Field("method", "method must be cash or qr")
	}
	in.ReceiptNo = strings.TrimSpace(in.ReceiptNo)
	if len(in.ReceiptNo) > 60 || len([]rune(in.Contributor)) > 100 {
		return Contribution{}, Project{}, apperr.Field("receipt_no", "receipt number or contributor name too long")
	}
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Contribution{}, Project{}, err
	}
	switch p.Status {
	case StatusProposed, StatusApproved:
	default:
		return Contribution{}, Project{}, apperr.Conflictf("the project is %s and takes no more contributions", p.Status)
	}
	still := p.CrowdfundTarget.Sub(p.Crowdfunded)
	if in.Amount.GreaterThan(still) {
		return Contribution{}, Project{}, &ShortError{What: ShortResidents, Have: still, Want: in.Amount,
			err: apperr.Conflictf("the project needs only %s more from residents", still.Yuan()).WithField("amount")}
	}
	if in.ReceiptNo == "" {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return Contribution{}, Project{}, fmt.Errorf("fund: receipt number: %w", err)
		}
		in.ReceiptNo = "RC" + time.Now().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b))
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	entryID, err := writeEntry(ctx, tx, entry{
		communityID: communityID, kind: "contribution", sourceKind: "project", sourceID: p.ID, sourceRef: in.ReceiptNo,
		memo: "residents' contribution (" + in.Method + "): " + p.Title, at: at,
		postings: []posting{{Contributions(in.Method), in.Amount}, {ProjectAccount(p.ID), in.Amount.Neg()}},
	})
	if err != nil {
		return Contribution{}, Project{}, err
	}
	var by *string
	if in.CollectedBy != "" {
		by = &in.CollectedBy
	}
	var c Contribution
	err = tx.GetContext(ctx, &c, `
		INSERT INTO fund_contributions (community_id, project_id, entry_id, amount, method, contributor, receipt_no, collected_by, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		RETURNING id, project_id, entry_id, amount, method, contributor, receipt_no, at`,
		communityID, p.ID, entryID, in.Amount, in.Method, in.Contributor, in.ReceiptNo, by, at)
	if db.IsUniqueViolation(err, "") {
		return Contribution{}, Project{}, apperr.Conflictf("receipt number %s is already recorded", in.ReceiptNo).WithField("receipt_no")
	}
	if err != nil {
		return Contribution{}, Project{}, fmt.Errorf("fund: insert contribution: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE fund_projects SET crowdfunded = crowdfunded + $2,
			status = CASE WHEN status = 'approved' AND fund_committed + crowdfunded + $2 >= budget THEN 'funded' ELSE status END
		WHERE id = $1`, p.ID, in.Amount); err != nil {
		return Contribution{}, Project{}, fmt.Errorf("fund: update project: %w", err)
	}
	p, err = getProject(ctx, tx, communityID, p.ID, false)
	return c, p, err
}

// ContributionRefund is residents' money given back from a project that did
// not go ahead.
type ContributionRefund struct {
	ContributionID string       `json:"contribution_id" db:"contribution_id"`
	ProjectID      string       `json:"project_id" db:"project_id"`
	EntryID        string       `json:"entry_id" db:"entry_id"`
	Amount         money.Amount `json:"amount" db:"amount"`
	Method         string       `json:"method" db:"method"`
	At             time.Time    `json:"at" db:"at"`
}

// RefundContribution gives a contribution back to the resident who made it,
// when its project was rejected or has not been approved: Dr project /
// Cr contributions(method), and the project's crowdfunded amount goes down.
// It is idempotent on the contribution: refunding it again returns the first
// refund and writes nothing. A contribution to an approved project is not
// refundable here (conflict): the fund has committed to it.
func (l *Ledger) RefundContribution(ctx context.Context, tx *sqlx.Tx, communityID, projectID, contributionID, userID string, at time.Time) (ContributionRefund, Project, error) {
	if !isUUID(contributionID) {
		return ContributionRefund{}, Project{}, apperr.NotFoundf("contribution not found")
	}
	p, err := getProject(ctx, tx, communityID, projectID, true) // serializes refunds of the project
	if err != nil {
		return ContributionRefund{}, Project{}, err
	}
	var c Contribution
	err = tx.GetContext(ctx, &c, `SELECT id, project_id, entry_id, amount, method, contributor, receipt_no, at
		FROM fund_contributions WHERE community_id = $1 AND project_id = $2 AND id = $3`, communityID, p.ID, contributionID)
	if errors.Is(err, sql.ErrNoRows) {
		return ContributionRefund{}, Project{}, apperr.NotFoundf("contribution not found")
	}
	if err != nil {
		return ContributionRefund{}, Project{}, fmt.Errorf("fund: contribution: %w", err)
	}
	const refundCols = `r.contribution_id, r.project_id, r.entry_id, r.amount, c.method, r.at`
	var prev ContributionRefund
	err = tx.GetContext(ctx, &prev, `SELECT `+refundCols+` FROM fund_contribution_refunds r
		JOIN fund_contributions c ON c.id = r.contribution_id WHERE r.contribution_id = $1`, c.ID)
	if err == nil {
		return prev, p, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return ContributionRefund{}, Project{}, fmt.Errorf("fund: contribution refund: %w", err)
	}
	if p.Status != StatusProposed && p.Status != StatusRejected {
		return ContributionRefund{}, Project{}, apperr.Conflictf("the project is %s: residents' money is given back only when a project is rejected or not yet approved", p.Status)
	}
	if at.IsZero() {
		at = time.Now()
	}
	entryID, err := writeEntry(ctx, tx, entry{
		communityID: communityID, kind: "contribution", sourceKind: "project", sourceID: p.ID, sourceRef: c.ReceiptNo,
		memo: "residents' contribution refunded (" + c.Method + "): " + p.Title, at: at,
		postings: []posting{{ProjectAccount(p.ID), c.Amount}, {Contributions(c.Method), c.Amount.Neg()}},
	})
	if err != nil {
		return ContributionRefund{}, Project{}, err
	}
	var by *string
	if userID != "" {
		by = &userID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fund_contribution_refunds (contribution_id, community_id, project_id, entry_id, amount, refunded_by, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`, c.ID, communityID, p.ID, entryID, c.Amount, by, at); err != nil {
		return ContributionRefund{}, Project{}, fmt.Errorf("fund: insert contribution refund: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET crowdfunded = crowdfunded - $2 WHERE id = $1`, p.ID, c.Amount); err != nil {
		return ContributionRefund{}, Project{}, fmt.Errorf("fund: update project: %w", err)
	}
	p, err = getProject(ctx, tx, communityID, p.ID, false)
	if err != nil {
		return ContributionRefund{}, Project{}, err
	}
	return ContributionRefund{ContributionID: c.ID, ProjectID: p.ID, EntryID: entryID, Amount: c.Amount, Method: c.Method, At: at}, p, nil
}

// DisbursementInput pays a project's money to a payee.
type DisbursementInput struct {
	Amount      money.Amount
	Payee       string
	Memo        string
	Voucher     []byte // photo of the invoice or receipt, optional here (see SetVoucher)
	VoucherType string // image/jpeg, image/png
	CreatedBy   string
	At          time.Time
}

// Disbursement is a recorded payment out of a project.
type Disbursement struct {
	ID         string       `json:"id" db:"id"`
	ProjectID  string       `json:"project_id" db:"project_id"`
	EntryID    string       `json:"entry_id" db:"entry_id"`
	Amount     money.Amount `json:"amount" db:"amount"`
	Payee      string       `json:"payee" db:"payee"`
	Memo       string       `json:"memo" db:"memo"`
	HasVoucher bool         `json:"has_voucher" db:"has_voucher"`
	At         time.Time    `json:"at" db:"at"`
}

// Disburse pays money out of an approved project, never more than the
// project holds (conflict otherwise, checked here and by the database).
func (l *Ledger) Disburse(ctx context.Context, tx *sqlx.Tx, communityID, projectID string, in DisbursementInput) (Disbursement, Project, error) {
	if !in.Amount.IsPositive() {
		return Disbursement{}, Project{}, apperr.Field("amount", "the amount must be greater than zero")
	}
	in.Payee = strings.TrimSpace(in.Payee)
	if in.Payee == "" || len([]rune(in.Payee)) > 200 {
		return Disbursement{}, Project{}, apperr.Field("payee", "name the payee (1–200 characters)")
	}
	if len(in.Memo) > 2000 {
		return Disbursement{}, Project{}, apperr.Field("memo", "the memo is too long")
	}
	if len(in.Voucher) > 0 {
		if err := checkVoucher(in.Voucher, in.VoucherType); err != nil {
			return Disbursement{}, Project{}, err
		}
	}
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Disbursement{}, Project{}, err
	}
	if p.Status != StatusApproved && p.Status != StatusFunded {
		return Disbursement{}, Project{}, apperr.Conflictf("the project is %s: money is paid out only for an approved project", p.Status)
	}
	if in.Amount.GreaterThan(p.Balance) {
		return Disbursement{}, Project{}, &ShortError{What: ShortProject, Have: p.Balance, Want: in.Amount,
			err: apperr.Conflictf("the project holds only %s", p.Balance.Yuan()).WithField("amount")}
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	entryID, err := writeEntry(ctx, tx, entry{
		communityID: communityID, kind: "disbursement", sourceKind: "project", sourceID: p.ID, sourceRef: in.Payee,
		memo: in.Memo, at: at,
		postings: []posting{{ProjectAccount(p.ID), in.Amount}, {Bank(), in.Amount.Neg()}},
	})
	if err != nil {
		return Disbursement{}, Project{}, err
	}
	var by *string
	if in.CreatedBy != "" {
		by = &in.CreatedBy
	}
	var voucher []byte
	if len(in.Voucher) > 0 {
		voucher = in.Voucher
	}
	var d Disbursement
	if err := tx.GetContext(ctx, &d, `
		INSERT INTO fund_disbursements (community_id, project_id, entry_id, amount, payee, memo, voucher, voucher_type, created_by, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		RETURNING id, project_id, entry_id, amount, payee, memo, voucher IS NOT NULL AS has_voucher, at`,
		communityID, p.ID, entryID, in.Amount, in.Payee, in.Memo, voucher, in.VoucherType, by, at); err != nil {
		return Disbursement{}, Project{}, fmt.Errorf("fund: insert disbursement: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET disbursed = disbursed + $2 WHERE id = $1`, p.ID, in.Amount); err != nil {
		if isOverdraw(err) {
			return Disbursement{}, Project{}, apperr.Conflictf("the project does not hold enough money for this").Say("err.overdraw.project").WithField("amount")
		}
		return Disbursement{}, Project{}, fmt.Errorf("fund: update project: %w", err)
	}
	p, err = getProject(ctx, tx, communityID, p.ID, false)
	return d, p, err
}

func checkVoucher(b []byte, ctype string) error {
	if len(b) > 8<<20 {
		return apperr.Field("voucher", "the voucher photo is larger than 8 MB")
	}
	switch {
	case ctype == "image/jpeg" && len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8:
	case ctype == "image/png" && len(b) > 8 && string(b[1:4]) == "PNG":
	default:
		return apperr.Field("voucher", "the voucher must be a JPEG or PNG photo")
	}
	return nil
}

// SetVoucher attaches (or replaces) the voucher photo of a disbursement.
func (l *Ledger) SetVoucher(ctx context.Context, tx *sqlx.Tx, communityID, disbursementID string, b []byte, ctype string) error {
	if err := checkVoucher(b, ctype); err != nil {
		return err
	}
	if !isUUID(communityID) || !isUUID(disbursementID) {
		return apperr.NotFoundf("disbursement not found")
	}
	res, err := tx.ExecContext(ctx, `UPDATE fund_disbursements SET voucher = $3, voucher_type = $4 WHERE community_id = $1 AND id = $2`,
		communityID, disbursementID, b, ctype)
	if err != nil {
		return fmt.Errorf("fund: voucher: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.NotFoundf("disbursement not found")
	}
	return nil
}

// Voucher returns a disbursement's voucher photo and its content type.
func (l *Ledger) Voucher(ctx context.Context, q sqlx.QueryerContext, communityID, disbursementID string) ([]byte, string, error) {
	if !isUUID(communityID) || !isUUID(disbursementID) {
		return nil, "", apperr.NotFoundf("voucher not found")
	}
	var row struct {
		B []byte `db:"voucher"`
		T string `db:"voucher_type"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT voucher, voucher_type FROM fund_disbursements WHERE community_id = $1 AND id = $2 AND voucher IS NOT NULL`, communityID, disbursementID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", apperr.NotFoundf("voucher not found")
	}
	if err != nil {
		return nil, "", err
	}
	return row.B, row.T, nil
}

// Contributions lists a project's contributions, oldest first.
func (l *Ledger) Contributions(ctx context.Context, q sqlx.QueryerContext, communityID, projectID string) ([]Contribution, error) {
	if _, err := getProject(ctx, q, communityID, projectID, false); err != nil {
		return nil, err
	}
	out := []Contribution{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT c.id, c.project_id, c.entry_id, c.amount, c.method, c.contributor, c.receipt_no, c.at, r.at AS refunded_at
		FROM fund_contributions c LEFT JOIN fund_contribution_refunds r ON r.contribution_id = c.id
		WHERE c.community_id = $1 AND c.project_id = $2 ORDER BY c.at, c.id`, communityID, projectID)
	return out, err
}

// Disbursements lists a project's disbursements, oldest first.
func (l *Ledger) Disbursements(ctx context.Context, q sqlx.QueryerContext, communityID, projectID string) ([]Disbursement, error) {
	if _, err := getProject(ctx, q, communityID, projectID, false); err != nil {
		return nil, err
	}
	out := []Disbursement{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, project_id, entry_id, amount, payee, memo, voucher IS NOT NULL AS has_voucher, at
		FROM fund_disbursements WHERE community_id = $1 AND project_id = $2 ORDER BY at, id`, communityID, projectID)
	return out, err
}

// CompleteProject marks a project done with the number of residents who
// benefited.
func (l *Ledger) CompleteProject(ctx context.Context, tx *sqlx.Tx, communityID, projectID string, residents int, at time.Time) (Project, error) {
	if residents < 0 || residents > 1000000 {
		return Project{}, apperr.Field("residents_benefited", "give the number of residents who benefited")
	}
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Project{}, err
	}
	if p.Status != StatusApproved && p.Status != StatusFunded {
		return Project{}, apperr.Conflictf("the project is %s: only an approved project can be completed", p.Status)
	}
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET status = 'completed', residents_benefited = $2, completed_at = $3 WHERE id = $1`,
		p.ID, residents, at); err != nil {
		return Project{}, err
	}
	return getProject(ctx, tx, communityID, p.ID, false)
}

// ProjectPatch changes a proposal; nil fields stay as they are.
type ProjectPatch struct {
	Title       *string
	Description *string
	Purpose     *string
	Budget      *money.Amount
	FundShare   *money.Amount
}

// UpdateProject changes a project while it is still a proposal (after
// approval the fund's commitment fixes budget and share).
func (l *Ledger) UpdateProject(ctx context.Context, tx *sqlx.Tx, communityID, projectID string, in ProjectPatch) (Project, error) {
	p, err := getProject(ctx, tx, communityID, projectID, true)
	if err != nil {
		return Project{}, err
	}
	if p.Status != StatusProposed {
		return Project{}, apperr.Conflictf("the project is %s: only a proposal can be changed", p.Status)
	}
	if in.Title != nil {
		p.Title = strings.TrimSpace(*in.Title)
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Purpose != nil {
		p.Purpose = *in.Purpose
		if p.Purpose == "" {
			p.Purpose = General
		}
	}
	if in.Budget != nil {
		p.Budget = *in.Budget
	}
	if in.FundShare != nil {
		p.FundShare = *in.FundShare
	}
	switch {
	case p.Title == "" || len([]rune(p.Title)) > 200:
		return Project{}, apperr.Field("title", "a project needs a title of 1–200 characters")
	case len(p.Description) > 10000:
		return Project{}, apperr.Field("description", "the description is too long")
	case !p.Budget.IsPositive():
		return Project{}, apperr.Field("budget", "the budget must be greater than zero")
	case p.FundShare.IsNegative():
		return Project{}, apperr.Field("fund_share", "the fund share must not be negative")
	case p.FundShare.GreaterThan(p.Budget):
		return Project{}, apperr.Field("fund_share", "the fund share (%s) cannot exceed the budget (%s)", p.FundShare, p.Budget)
	case p.Crowdfunded.GreaterThan(p.Budget.Sub(p.FundShare)):
		return Project{}, apperr.Conflictf("residents have already given %s, more than the new plan asks of them", p.Crowdfunded.Yuan())
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fund_projects SET title = $2, description = $3, purpose = $4, budget = $5, fund_share = $6 WHERE id = $1`,
		p.ID, p.Title, p.Description, p.Purpose, p.Budget, p.FundShare); err != nil {
		return Project{}, fmt.Errorf("fund: update project: %w", err)
	}
	return getProject(ctx, tx, communityID, p.ID, false)
}
