package pos_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/pos"
)

func mustField(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || e.Field != field {
		t.Fatalf("want an invalid %s, got %v", field, err)
	}
}

func (f *fx) consume(requestedBy, action, token string) (string, error) {
	var id string
	err := f.try(func(tx *sqlx.Tx) (err error) {
		id, err = pos.ConsumeApproval(f.ctx, tx, f.cid, requestedBy, action, token)
		return
	})
	return id, err
}

func TestApprovalTokenIsCheckedIssuedAndUsedOnce(t *testing.T) {
	f := setup(t, 5, 5)
	issue := func(r pos.ApprovalRequest) (*pos.Approval, error) { return f.s.IssueApproval(f.ctx, f.cid, r) }

	// The PIN is checked as for any approval.
	refusals := []struct {
		name  string
		req   pos.ApprovalRequest
		code  apperr.Code
		field string
	}{
		{"unknown action", pos.ApprovalRequest{Action: "void", RequestedBy: f.vol1, UserID: f.vol2, PIN: "5678"}, apperr.Invalid, "action"},
		{"nobody named", pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, PIN: "5678"}, apperr.Invalid, "user_id"},
		{"own PIN", pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: f.vol1, PIN: "1234"}, apperr.Invalid, "user_id"},
		{"no PIN", pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: f.vol2}, apperr.Invalid, "pin"},
		{"bad id", pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: "x", PIN: "5678"}, apperr.Invalid, "user_id"},
		{"wrong PIN", pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: f.vol2, PIN: "0000"}, apperr.Forbidden, "pin"},
	}
	for _, c := range refusals {
		a, err := issue(c.req)
		e, ok := apperr.As(err)
		if a != nil || !ok || e.Code != c.code || e.Field != c.field {
			t.Fatalf("%s: %v %v, want %s on %s", c.name, a, err, c.code, c.field)
		}
	}
	var n int
	if err := f.d.Get(&n, `SELECT count(*) FROM pos_approval_tokens WHERE community_id=$1`, f.cid); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d tokens issued by refused approvals", n)
	}

	a, err := issue(pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: f.vol2, PIN: "5678"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Token, "apv_") || len(a.Token) < 4+22 || a.ApproverID != f.vol2 || a.DisplayName != "李叔" {
		t.Fatalf("approval %+v", a)
	}
	if d := time.Until(a.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("expires in %v, want 10 minutes", d)
	}
	// Only the hash is kept: neither the token nor the PIN is in the table.
	var stored string
	if err := f.d.Get(&stored, `SELECT row_to_json(t)::text FROM pos_approval_tokens t WHERE community_id=$1`, f.cid); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, a.Token) || strings.Contains(stored, a.Token[4:]) || strings.Contains(stored, "5678") {
		t.Fatalf("the token or PIN is stored: %s", stored)
	}

	// Wrong action, wrong requester, garbage: refused, and the token stays usable.
	_, err = f.consume(f.vol1, pos.ActionRefund, a.Token)
	mustField(t, err, "approval_token")
	_, err = f.consume(f.admin, pos.ActionDiscount, a.Token)
	mustField(t, err, "approval_token")
	_, err = f.consume(f.vol1, pos.ActionDiscount, "apv_nonsense")
	mustField(t, err, "approval_token")
	_, err = f.consume(f.vol1, pos.ActionDiscount, "")
	mustField(t, err, "approval_token")

	// A write that rolls back leaves the token unused.
	boom := errors.New("the write failed")
	err = f.try(func(tx *sqlx.Tx) error {
		if _, err := pos.ConsumeApproval(f.ctx, tx, f.cid, f.vol1, pos.ActionDiscount, a.Token); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	id, err := f.consume(f.vol1, pos.ActionDiscount, a.Token)
	if err != nil || id != f.vol2 {
		t.Fatalf("consume: %q %v", id, err)
	}
	// Once only.
	_, err = f.consume(f.vol1, pos.ActionDiscount, a.Token)
	mustField(t, err, "approval_token")

	// An expired token is refused.
	b, err := issue(pos.ApprovalRequest{Action: pos.ActionRefund, RequestedBy: f.vol1, UserID: f.admin, PIN: "9999"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.d.Exec(`UPDATE pos_approval_tokens SET expires_at = created_at + interval '1 microsecond' WHERE approved_by=$1`, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("expired %d tokens: %v", n, err)
	}
	_, err = f.consume(f.vol1, pos.ActionRefund, b.Token)
	mustField(t, err, "approval_token")

	// A used token cannot be made usable again, even by hand.
	if _, err := f.d.Exec(`UPDATE pos_approval_tokens SET used_at = NULL WHERE approved_by=$1 AND action='discount'`, f.vol2); err == nil {
		t.Fatal("a used token was made unused again")
	}
}

// Another community's token is not valid here.
func TestApprovalTokenIsBoundToItsCommunity(t *testing.T) {
	f := setup(t, 1, 1)
	g := setup(t, 1, 1)
	a, err := f.s.IssueApproval(f.ctx, f.cid, pos.ApprovalRequest{Action: pos.ActionRefund, RequestedBy: f.vol1, UserID: f.vol2, PIN: "5678"})
	if err != nil {
		t.Fatal(err)
	}
	err = g.try(func(tx *sqlx.Tx) error {
		_, err := pos.ConsumeApproval(g.ctx, tx, g.cid, f.vol1, pos.ActionRefund, a.Token)
		return err
	})
	mustField(t, err, "approval_token")
	if id, err := f.consume(f.vol1, pos.ActionRefund, a.Token); err != nil || id != f.vol2 {
		t.Fatalf("consume in its own community: %q %v", id, err)
	}
}

// Two writes racing for one token: exactly one gets it.
func TestApprovalTokenRaceHasOneWinner(t *testing.T) {
	f := setup(t, 1, 1)
	a, err := f.s.IssueApproval(f.ctx, f.cid, pos.ApprovalRequest{Action: pos.ActionDiscount, RequestedBy: f.vol1, UserID: f.vol2, PIN: "5678"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := f.consume(f.vol1, pos.ActionDiscount, a.Token)
			errs <- err
		}()
	}
	won := 0
	for i := 0; i < n; i++ {
		err := <-errs
		if err == nil {
			won++
			continue
		}
		if e, ok := apperr.As(err); !ok || e.Field != "approval_token" {
			t.Fatalf("a losing write: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writes used one token", won)
	}
}
