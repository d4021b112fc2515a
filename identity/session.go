package identity

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// Session is a signed-in user: the bearer token is shown once; only its hash
// is stored.
type Session struct {
	Token     string
	CSRFToken string
	User      User
	ExpiresAt time.Time
}

// dummyHash keeps sign-in time the same whether or not the login exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)

// SignIn checks a login and password, throttled per login and per IP
// address: after MaxFailures failures within FailureWindow it answers
// rate_limited without checking the password.
func (s *Service) SignIn(ctx context.Context, login, password, ip string) (Session, error) {
	keys := []string{"login:" + login, "ip:" + ip}
	for i, k := range keys {
		var n int
		if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM login_failures WHERE key=$1 AND at > now() - $2::interval`,
			k, s.FailureWindow.String()); err != nil {
			return Session{}, err
		}
		if limit := []int{s.MaxFailures, s.MaxFailuresPerIP}[i]; n >= limit {
			return Session{}, apperr.New(apperr.RateLimited, "too many failed sign-ins; try again in %d minutes", int(s.FailureWindow.Minutes()))
		}
	}
	var row struct {
		User
		PasswordHash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT `+userCols+`, password_hash FROM users WHERE login=$1 AND active`, login)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Session{}, err
	}
	hash := []byte(row.PasswordHash)
	if err != nil {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || row.ID == "" {
		for _, k := range keys {
			if _, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1)`, k); err != nil {
				return Session{}, err
			}
		}
		return Session{}, apperr.New(apperr.Unauthorized, "wrong login or password")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE key=$1`, keys[0]); err != nil {
		return Session{}, err
	}
	return s.StartSession(ctx, row.User)
}

// StartSession creates a session for an already authenticated user (after a
// password sign-in, or a PIN sign-in on a paired tablet).
func (s *Service) StartSession(ctx context.Context, u User) (Session, error) {
	sess := Session{Token: randomToken(32), CSRFToken: randomToken(24), User: u, ExpiresAt: time.Now().Add(s.SessionTTL)}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1,$2,$3,$4)`,
			tokenHash(sess.Token), u.ID, sess.CSRFToken, sess.ExpiresAt); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{CommunityID: u.Community(), UserID: u.ID, Action: "sign_in", Entity: "session"})
	})
	return sess, err
}

// Session returns the live session of a token.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	var row struct {
		User
		CSRFToken string    `db:"csrf_token"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT u.id, u.community_id, u.login, u.role, u.display_name, u.active, u.created_at,
			s.csrf_token, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash=$1 AND s.expires_at > now() AND u.active`, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, apperr.New(apperr.Unauthorized, "sign in first")
	}
	if err != nil {
		return Session{}, err
	}
	return Session{Token: token, CSRFToken: row.CSRFToken, User: row.User, ExpiresAt: row.ExpiresAt}, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var userID string
		err := tx.GetContext(ctx, &userID, `DELETE FROM sessions WHERE token_hash=$1 RETURNING user_id`, tokenHash(token))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: userID, Action: "sign_out", Entity: "session"})
	})
}

// CheckPIN verifies a user's PIN (used by the stall tablet and for a second
// person's approval). It shares the sign-in throttle, keyed by user.
func (s *Service) CheckPIN(ctx context.Context, communityID, userID, pin string) (User, error) {
	key := "pin:" + userID
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM login_failures WHERE key=$1 AND at > now() - $2::interval`,
		key, s.FailureWindow.String()); err != nil {
		return User{}, err
	}
	if n >= s.MaxFailures {
		return User{}, apperr.New(apperr.RateLimited, "PIN locked after repeated failures; try again in %d minutes", int(s.FailureWindow.Minutes()))
	}
	var row struct {
		User
		PINHash *string `db:"pin_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT `+userCols+`, pin_hash FROM users WHERE id::text=$1 AND community_id::text=$2 AND active`, userID, communityID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.NotFoundf("user not found")
	}
	if err != nil {
		return User{}, err
	}
	if row.PINHash == nil || bcrypt.CompareHashAndPassword([]byte(*row.PINHash), []byte(pin)) != nil {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1)`, key); err != nil {
			return User{}, err
		}
		return User{}, apperr.New(apperr.Unauthorized, "wrong PIN")
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE key=$1`, key)
	return row.User, err
}
