package groupbuy

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
)

var codeRe = regexp.MustCompile(`^[0-9]{6}$`)

// Pickup verifies a pickup code of a succeeded campaign, once: the join is
// marked picked up (by whom, and for whom when a neighbour collects for
// another). A code used before, or unknown, is refused.
func (s *Service) Pickup(ctx context.Context, tx *sqlx.Tx, communityID, campaignID, code, by, forWhom string) (*Join, error) {
	code, forWhom = strings.TrimSpace(code), strings.TrimSpace(forWhom)
	if !codeRe.MatchString(code) {
		return nil, refuse("code_format", 0, apperr.Field("code", "a pickup code has 6 digits"))
	}
	if utf8.RuneCountInString(forWhom) > 40 {
		return nil, apperr.Field("for", "the name is too long")
	}
	c, err := s.Get(ctx, tx, communityID, campaignID)
	if err != nil {
		return nil, err
	}
	if c.Status != Succeeded {
		return nil, refuse("not_succeeded", 0, apperr.Conflictf("goods are picked up only after the group-buy succeeded (it is %s)", c.Status))
	}
	var j Join
	err = tx.GetContext(ctx, &j, `UPDATE groupbuy_joins SET picked_up_at=$3, picked_up_by=$4, picked_up_for=$5
		WHERE campaign_id=$1 AND pickup_code=$2 AND status='confirmed' AND picked_up_at IS NULL RETURNING `+joinCols,
		c.ID, code, s.now(), nullable(by), forWhom)
	if err == nil {
		return &j, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	prev, gerr := getJoin(ctx, tx, `campaign_id=$1 AND pickup_code=$2`, c.ID, code)
	if gerr != nil {
		if apperr.Is(gerr, apperr.NotFound) {
			return nil, refuse("code_unknown", 0, apperr.NotFoundf("no join of this group-buy has this pickup code"))
		}
		return nil, gerr
	}
	if prev.PickedUpAt != nil {
		return nil, refuse("code_used", 0, apperr.Conflictf("this code was already used at %s", prev.PickedUpAt.Format("2006-01-02 15:04")))
	}
	return nil, refuse("code_unpaid", 0, apperr.Conflictf("this join is %s, not ready for pickup", prev.Status))
}
