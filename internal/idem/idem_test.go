package idem_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/dbtest"
	"shelin/internal/idem"
)

func TestSameKeyRunsOnceAndReplaysTheFirstAnswer(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	var runs atomic.Int32
	step := func(tx *sqlx.Tx) (int, []byte, error) {
		n := runs.Add(1)
		return 201, []byte(`{"run":` + string(rune('0'+n)) + `}`), nil
	}
	hash := idem.Hash([]byte("POST"), []byte("/x"), []byte(`{"qty":1}`))
	var wg sync.WaitGroup
	results := make([]idem.Response, 20)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := idem.Do(ctx, d, "scope-a", "key-1", hash, step)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}(i)
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("the step ran %d times for one key", runs.Load())
	}
	replays := 0
	for _, r := range results {
		if r.Status != 201 || string(r.Body) != `{"run":1}` {
			t.Fatalf("answer %d %s, want the first one", r.Status, r.Body)
		}
		if r.Replay {
			replays++
		}
	}
	if replays != 19 {
		t.Fatalf("%d replays, want 19", replays)
	}
	// The same key in another scope (community) is another request.
	if _, err := idem.Do(ctx, d, "scope-b", "key-1", hash, step); err != nil || runs.Load() != 2 {
		t.Fatalf("other scope: err %v, runs %d", err, runs.Load())
	}
}

func TestSameKeyWithAnotherBodyIsAConflict(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	ok := func(tx *sqlx.Tx) (int, []byte, error) { return 201, []byte(`{}`), nil }
	if _, err := idem.Do(ctx, d, "s", "key-2", idem.Hash([]byte("a")), ok); err != nil {
		t.Fatal(err)
	}
	_, err := idem.Do(ctx, d, "s", "key-2", idem.Hash([]byte("b")), ok)
	if !apperr.Is(err, apperr.IdempotencyConflict) {
		t.Fatalf("got %v, want idempotency_conflict", err)
	}
}

func TestAFailedStepStoresNothingSoTheClientMayRetry(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	h := idem.Hash([]byte("c"))
	_, err := idem.Do(ctx, d, "s", "key-3", h, func(tx *sqlx.Tx) (int, []byte, error) {
		return 0, nil, apperr.New(apperr.InsufficientStock, "none left")
	})
	if !apperr.Is(err, apperr.InsufficientStock) {
		t.Fatal(err)
	}
	r, err := idem.Do(ctx, d, "s", "key-3", h, func(tx *sqlx.Tx) (int, []byte, error) { return 201, []byte(`{"ok":true}`), nil })
	if err != nil || r.Replay || r.Status != 201 {
		t.Fatalf("retry after failure: %+v %v", r, err)
	}
}

func TestKeysMustBe1To255Characters(t *testing.T) {
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'k'
	}
	for _, k := range []string{"", string(long)} {
		if e, ok := apperr.As(idem.Validate(k)); !ok || e.Field != "Idempotency-Key" {
			t.Fatalf("key of %d chars accepted", len(k))
		}
	}
}
