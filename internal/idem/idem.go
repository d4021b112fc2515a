// Package idem makes writes that a flaky network can repeat happen once.
//
// Do runs a business step and stores its response in the same transaction,
// keyed by (scope, key). A repeat with the same key and request returns the
// stored response without running the step again; the same key with another
// request is an idempotency_conflict. Because the record and the business
// change commit together, a crash between them cannot double or lose a write.
package idem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// Response is what the first request answered.
type Response struct {
	Status int
	Body   []byte
	Replay bool // true when this is a stored answer to an earlier request
}

// Hash fingerprints a request (method, path, body) for comparison.
func Hash(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// Validate checks a key taken from the Idempotency-Key header.
func Validate(key string) error {
	if len(key) < 1 || len(key) > 255 {
		return apperr.Field("Idempotency-Key", "the Idempotency-Key header (1–255 characters) is required for this request")
	}
	return nil
}

// Do runs fn at most once per (scope, key) with success. fn returns the HTTP
// status and JSON body to store. When fn fails, nothing is stored and the
// whole transaction rolls back, so the client may retry with the same key.
func Do(ctx context.Context, d *sqlx.DB, scope, key string, reqHash []byte, fn func(tx *sqlx.Tx) (int, []byte, error)) (Response, error) {
	if err := Validate(key); err != nil {
		return Response{}, err
	}
	var out Response
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		// Serialize requests with the same key so the step runs once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, scope+"\x1f"+key); err != nil { // \x1f: PostgreSQL text cannot hold NUL
			return err
		}
		var prev struct {
			RequestHash []byte `db:"request_hash"`
			Status      int    `db:"status"`
			Body        []byte `db:"body"`
		}
		err := tx.GetContext(ctx, &prev, `SELECT request_hash, status, body FROM idempotency_keys WHERE scope=$1 AND key=$2`, scope, key)
		switch {
		case err == nil:
			if !bytes.Equal(prev.RequestHash, reqHash) {
				return apperr.New(apperr.IdempotencyConflict, "this Idempotency-Key was already used for a different request").WithField("Idempotency-Key")
			}
			out = Response{Status: prev.Status, Body: prev.Body, Replay: true}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		status, body, err := fn(tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body) VALUES ($1,$2,$3,$4,$5)`,
			scope, key, reqHash, status, body); err != nil {
			return err
		}
		out = Response{Status: status, Body: body}
		return nil
	})
	return out, err
}

// Purge deletes records older than the retention (at least 24 h is promised).
func Purge(ctx context.Context, d *sqlx.DB) (int64, error) {
	res, err := d.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - interval '72 hours'`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
