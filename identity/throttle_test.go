package identity_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/internal/dbtest"
)

func TestPolicyWaitDoublesPastTheLimitUpToTheMax(t *testing.T) {
	p := identity.Policy{Limit: 10, Base: time.Minute, Max: time.Hour}
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {9, 0}, {10, time.Minute}, {11, 2 * time.Minute}, {12, 4 * time.Minute},
		{15, 32 * time.Minute}, {16, time.Hour}, {1000, time.Hour},
	} {
		if got := p.Wait(c.n); got != c.want {
			t.Errorf("Wait(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

type fixture struct {
	ctx  context.Context
	ids  *identity.Service
	com  identity.Community
	user identity.User
}

func setup(t *testing.T) fixture {
	t.Helper()
	identity.SetFastHashing()
	d := dbtest.Open(t)
	f := fixture{ctx: context.Background(), ids: identity.New(d)}
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	slug := "t-" + hex.EncodeToString(b)
	err := db.InTx(f.ctx, d, func(tx *sqlx.Tx) (err error) {
		if f.com, err = f.ids.CreateCommunity(f.ctx, tx, identity.NewCommunity{Name: "测试社区", Slug: slug}); err != nil {
			return err
		}
		f.user, err = f.ids.CreateUser(f.ctx, tx, f.com.ID, identity.NewUser{Login: "wang-" + slug, Password: "password-123", Role: identity.Admin, PIN: "1357"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run calls fn n times at once and counts the error codes ("" for success).
func run(n int, fn func(i int) error) map[apperr.Code]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[apperr.Code]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := fn(i)
			code := apperr.Code("")
			if err != nil {
				code = apperr.CodeOf(err)
			}
			mu.Lock()
			out[code]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return out
}

func TestParallelWrongPINsAreCheckedAtMostLimitTimes(t *testing.T) {
	f := setup(t)
	got := run(60, func(i int) error {
		_, err := f.ids.CheckPIN(f.ctx, f.com.ID, f.user.ID, fmt.Sprintf("%04d", 2000+i))
		return err
	})
	if got[apperr.Unauthorized] != f.ids.MaxFailures || got[apperr.RateLimited] != 60-f.ids.MaxFailures || got[apperr.Internal] != 0 {
		t.Fatalf("60 parallel wrong PINs: %v, want %d unauthorized and the rest rate_limited", got, f.ids.MaxFailures)
	}
	_, err := f.ids.CheckPIN(f.ctx, f.com.ID, f.user.ID, "1357")
	wait, ok := identity.RetryAfter(err)
	if !apperr.Is(err, apperr.RateLimited) || !ok || wait <= 0 || wait > f.ids.BackoffBase {
		t.Fatalf("the right PIN while locked: %v (wait %v), want rate_limited within %v", err, wait, f.ids.BackoffBase)
	}
}

func TestParallelWrongPasswordsAreCheckedAtMostLimitTimes(t *testing.T) {
	f := setup(t)
	got := run(80, func(i int) error {
		_, err := f.ids.SignIn(f.ctx, f.user.Login, fmt.Sprintf("guess-%d", i), "192.0.2.10")
		return err
	})
	if got[apperr.Unauthorized] != f.ids.MaxFailures || got[apperr.RateLimited] != 80-f.ids.MaxFailures {
		t.Fatalf("80 parallel wrong passwords: %v, want %d unauthorized and the rest rate_limited", got, f.ids.MaxFailures)
	}
	if _, err := f.ids.SignIn(f.ctx, f.user.Login, "password-123", "192.0.2.10"); !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("the right password from the throttled address: %v", err)
	}
	// Another address is under the looser per-login limit.
	sess, err := f.ids.SignIn(f.ctx, f.user.Login, "password-123", "192.0.2.11")
	if err != nil || sess.Kind != identity.KindPassword || sess.User.Role != identity.Admin {
		t.Fatalf("the right password from another address: %+v %v", sess, err)
	}
}

// A success gives the attempt back and wipes the person's own count at
// that place, so a typo now and then never adds up to a lock.
func TestSuccessGivesTheCountBack(t *testing.T) {
	f := setup(t)
	for round := 0; round < 5; round++ {
		for i := 0; i < f.ids.MaxFailures-1; i++ {
			if _, err := f.ids.SignIn(f.ctx, f.user.Login, "typo", "192.0.2.20"); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("round %d typo %d: %v", round, i, err)
			}
		}
		if _, err := f.ids.SignIn(f.ctx, f.user.Login, "password-123", "192.0.2.20"); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// A PIN session acts with the stall role, whatever the person's role, and
// keeps the person's own role apart.
func TestPINSessionActsWithTheStallRole(t *testing.T) {
	f := setup(t)
	sess, err := f.ids.StartPINSession(f.ctx, f.user, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.ids.Session(f.ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PIN() || got.User.Role != identity.PINRole || got.Role != identity.Admin || sess.User.Role != identity.PINRole {
		t.Fatalf("PIN session %+v (started as %+v)", got, sess)
	}
	pw, err := f.ids.StartSession(f.ctx, f.user)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.ids.Session(f.ctx, pw.Token); err != nil || got.PIN() || got.User.Role != identity.Admin {
		t.Fatalf("password session %+v %v", got, err)
	}
}
