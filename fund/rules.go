package fund

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// RuleEarmark is one earmark of the allocation rules and its percentage.
type RuleEarmark struct {
	Name    string          `json:"name"`
	Percent decimal.Decimal `json:"percent"`
}

// Rules are the allocation rules a community's net proceeds are split by.
type Rules struct {
	Version   int           `json:"version"`
	Earmarks  []RuleEarmark `json:"earmarks"`
	CreatedAt *time.Time    `json:"created_at,omitempty"`
}

// DefaultRules apply before a community sets any: version 0, general 100%.
func DefaultRules() Rules {
	return Rules{Version: 0, Earmarks: []RuleEarmark{{Name: General, Percent: decimal.NewFromInt(100)}}}
}

// CurrentRules returns the community's latest rules (DefaultRules if none).
func (l *Ledger) CurrentRules(ctx context.Context, q sqlx.QueryerContext, communityID string) (Rules, error) {
	if err := checkCommunity(ctx, q, communityID); err != nil {
		return Rules{}, err
	}
	return currentRules(ctx, q, communityID)
}

func currentRules(ctx context.Context, q sqlx.QueryerContext, communityID string) (Rules, error) {
	var rows []struct {
		Version   int             `db:"version"`
		Name      string          `db:"name"`
		Percent   decimal.Decimal `db:"percent"`
		CreatedAt time.Time       `db:"created_at"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT s.version, e.name, e.percent, s.created_at
		FROM fund_rule_sets s JOIN fund_rule_earmarks e USING (community_id, version)
		WHERE s.community_id = $1
		  AND s.version = (SELECT max(version) FROM fund_rule_sets WHERE community_id = $1)
		ORDER BY e.position`, communityID)
	if err != nil {
		return Rules{}, fmt.Errorf("fund: rules: %w", err)
	}
	if len(rows) == 0 {
		return DefaultRules(), nil
	}
	r := Rules{Version: rows[0].Version, CreatedAt: &rows[0].CreatedAt}
	for _, row := range rows {
		r.Earmarks = append(r.Earmarks, RuleEarmark{Name: row.Name, Percent: row.Percent})
	}
	return r, nil
}

// ValidateRules checks earmarks: 1–20 distinct names, each percent > 0 with
// at most two decimals, summing to exactly 100.
func ValidateRules(earmarks []RuleEarmark) error {
	if len(earmarks) == 0 || len(earmarks) > 20 {
		return apperr.Field("earmarks", "give between 1 and 20 earmarks")
	}
	seen := map[string]bool{}
	sum := decimal.Zero
	for i, e := range earmarks {
		f := fmt.Sprintf("earmarks[%d]", i)
		name := strings.TrimSpace(e.Name)
		if name == "" || len([]rune(name)) > 40 || name != e.Name {
			return apperr.Field(f+".name", "an earmark needs a name of 1–40 characters without surrounding spaces")
		}
		if seen[name] {
			return apperr.Field(f+".name", "earmark %q appears twice", name)
		}
		seen[name] = true
		if !e.Percent.IsPositive() || e.Percent.GreaterThan(decimal.NewFromInt(100)) {
			return apperr.Field(f+".percent", "a percent must be greater than 0 and at most 100")
		}
		if !e.Percent.Equal(e.Percent.Round(2)) {
			return apperr.Field(f+".percent", "a percent has at most two decimals")
		}
		sum = sum.Add(e.Percent)
	}
	if !sum.Equal(decimal.NewFromInt(100)) {
		return apperr.Field("earmarks", "the percents must sum to 100, not %s", sum.String())
	}
	return nil
}

// SetRules stores a new version of the allocation rules. Entries posted from
// now on use it; earlier entries keep the version they recorded.
func (l *Ledger) SetRules(ctx context.Context, tx *sqlx.Tx, communityID, userID string, earmarks []RuleEarmark) (Rules, error) {
	if err := ValidateRules(earmarks); err != nil {
		return Rules{}, err
	}
	if err := checkCommunity(ctx, tx, communityID); err != nil {
		return Rules{}, err
	}
	// Serialize rule changes of one community.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('fund_rules:' || $1, 0))`, communityID); err != nil {
		return Rules{}, err
	}
	var by *string
	if userID != "" {
		by = &userID
	}
	var r Rules
	var at time.Time
	err := tx.QueryRowxContext(ctx, `
		INSERT INTO fund_rule_sets (community_id, version, created_by)
		VALUES ($1, COALESCE((SELECT max(version) FROM fund_rule_sets WHERE community_id = $1), 0) + 1, $2)
		RETURNING version, created_at`, communityID, by).Scan(&r.Version, &at)
	if err != nil {
		return Rules{}, fmt.Errorf("fund: insert rules: %w", err)
	}
	r.CreatedAt = &at
	for i, e := range earmarks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_rule_earmarks (community_id, version, position, name, percent) VALUES ($1,$2,$3,$4,$5)`,
			communityID, r.Version, i, e.Name, e.Percent.String()); err != nil {
			return Rules{}, fmt.Errorf("fund: insert rule: %w", err)
		}
		r.Earmarks = append(r.Earmarks, e)
	}
	return r, nil
}

// SetRulesTx is SetRules in a transaction of its own.
func (l *Ledger) SetRulesTx(ctx context.Context, communityID, userID string, earmarks []RuleEarmark) (Rules, error) {
	var r Rules
	err := db.InTx(ctx, l.db, func(tx *sqlx.Tx) error {
		var err error
		r, err = l.SetRules(ctx, tx, communityID, userID, earmarks)
		return err
	})
	return r, err
}
