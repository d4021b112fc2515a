package identity

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// Policy is how one kind of throttle key backs off: Limit failures are free,
// then each further attempt waits Base, doubled with every failure past the
// limit, at most Max. Failures are forgotten Forget after the wait of the
// last one has passed.
type Policy struct {
	Limit  int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Wait is how long after the last of n failures the next attempt must wait.
func (p Policy) Wait(n int) time.Duration {
	if n < p.Limit {
		return 0
	}
	d := p.Base
	for i := p.Limit; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// ThrottledError is the rate_limited error of a throttle: it says how long to
// wait before the next attempt.
type ThrottledError struct {
	err  *apperr.Error
	Wait time.Duration
}

func (e *ThrottledError) Error() string { return e.err.Error() }
func (e *ThrottledError) Unwrap() error { return e.err }

// RetryAfter returns the wait of a throttled err (false for other errors).
func RetryAfter(err error) (time.Duration, bool) {
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.Wait, true
	}
	return 0, false
}

func throttled(wait time.Duration, what string) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &ThrottledError{err: apperr.New(apperr.RateLimited, "too many failed %s; try again in %d seconds", what, secs), Wait: wait}
}

// limit is one key an attempt counts against. A key with reset is given
// back entirely by a success (it is the person's own, at one place); the
// others only get the attempt itself back.
type limit struct {
	key    string
	policy Policy
	reset  bool
}

// Attempt is a reserved sign-in attempt: it already counts as a failure
// under every key; Succeeded gives the count back when the secret was right.
type Attempt struct {
	s      *Service
	limits []limit
}

// reserve counts one attempt against every key in one transaction, before
// the secret is checked: the rows are locked in key order, and the attempt
// is refused (and counts nothing) while any key is waiting. So any number of
// parallel attempts get at most Limit past each key.
func (s *Service) reserve(ctx context.Context, limits []limit, what string) (*Attempt, error) {
	sort.Slice(limits, func(i, j int) bool { return limits[i].key < limits[j].key })
	var wait time.Duration
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		wait = 0
		counts := make([]int, len(limits))
		for i, l := range limits {
			var row struct {
				Failures int       `db:"failures"`
				LastAt   time.Time `db:"last_at"`
				Now      time.Time `db:"now"`
			}
			if err := tx.GetContext(ctx, &row, `INSERT INTO auth_throttles AS t (key) VALUES ($1)
				ON CONFLICT (key) DO UPDATE SET key = t.key
				RETURNING t.failures, t.last_at, now() AS now`, l.key); err != nil {
				return err
			}
			n := row.Failures
			w := l.policy.Wait(n)
			if row.Now.After(row.LastAt.Add(w + l.policy.Forget)) {
				n, w = 0, 0
			}
			if left := row.LastAt.Add(w).Sub(row.Now); w > 0 && left > wait {
				wait = left
			}
			counts[i] = n
		}
		if wait > 0 {
			return nil
		}
		for i, l := range limits {
			if _, err := tx.ExecContext(ctx, `UPDATE auth_throttles SET failures=$2, last_at=now() WHERE key=$1`, l.key, counts[i]+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, throttled(wait, what)
	}
	if rand.IntN(200) == 0 {
		s.forgetOld(ctx)
	}
	return &Attempt{s: s, limits: limits}, nil
}

// Succeeded gives the attempt back, in the caller's transaction: keys with
// reset start again from zero.
func (a *Attempt) Succeeded(ctx context.Context, tx *sqlx.Tx) error {
	for _, l := range a.limits {
		q := `UPDATE auth_throttles SET failures = greatest(failures - 1, 0) WHERE key=$1`
		if l.reset {
			q = `UPDATE auth_throttles SET failures = 0 WHERE key=$1`
		}
		if _, err := tx.ExecContext(ctx, q, l.key); err != nil {
			return err
		}
	}
	return nil
}

// ReservePairing counts a tablet pairing attempt from a client address
// before the code is checked: pairing codes are secrets guessed like
// passwords. The caller gives it back with Succeeded when the code was right.
func (s *Service) ReservePairing(ctx context.Context, ip string) (*Attempt, error) {
	return s.reserve(ctx, []limit{{key: "pair:ip:" + addressKey(ip), policy: s.pairingPolicy()}}, "pairing codes")
}

// forgetOld deletes keys whose failures are long forgotten.
func (s *Service) forgetOld(ctx context.Context) {
	longest := time.Duration(0)
	for _, p := range []Policy{s.accountPlacePolicy(), s.accountPolicy(), s.addressPolicy(), s.pinPolicy(), s.devicePolicy(), s.pairingPolicy()} {
		longest = max(longest, p.Max+p.Forget)
	}
	_, _ = s.db.ExecContext(ctx, `DELETE FROM auth_throttles WHERE last_at < now() - $1::interval`, fmt.Sprintf("%d seconds", int(longest.Seconds())+1))
}

// The policies, from the Service's settings.
func (s *Service) accountPlacePolicy() Policy {
	return Policy{Limit: s.MaxFailures, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}
func (s *Service) accountPolicy() Policy {
	return Policy{Limit: s.MaxFailuresPerLogin, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}
func (s *Service) addressPolicy() Policy {
	return Policy{Limit: s.MaxFailuresPerIP, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}
func (s *Service) pinPolicy() Policy {
	return Policy{Limit: s.MaxFailures, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}
func (s *Service) pairingPolicy() Policy {
	return Policy{Limit: s.MaxPairingsPerIP, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}
func (s *Service) devicePolicy() Policy {
	return Policy{Limit: s.MaxFailuresPerDevice, Base: s.BackoffBase, Max: s.BackoffMax, Forget: s.FailureWindow}
}

// addressKey is the throttled unit of a client address: the address itself
// for IPv4, its /64 for IPv6 (one subscriber's network).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// knownPlace reports whether the user signed in successfully at place before.
func (s *Service) knownPlace(ctx context.Context, userID, place string) (bool, error) {
	if userID == "" {
		return false, nil
	}
	var ok bool
	err := s.db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM auth_known_places WHERE user_id=$1 AND place=$2)`, userID, place)
	return ok, err
}

func rememberPlace(ctx context.Context, tx *sqlx.Tx, userID, place string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO auth_known_places (user_id, place) VALUES ($1,$2)
		ON CONFLICT (user_id, place) DO UPDATE SET last_at = now()`, userID, place)
	return err
}
