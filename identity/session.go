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

// Session kinds: a password sign-in, or a PIN on a paired stall tablet.
const (
	KindPassword = "password"
	KindPIN      = "pin"
)

// PINRole is the role a PIN session acts with, whatever the person's own
// role: four digits on a shared tablet unlock stall work only.
const PINRole = Volunteer

// Session is a signed-in user: the bearer token is shown once; only its hash
// is stored. In a PIN session User.Role is PINRole and Role is the person's
// own role.
type Session struct {
	Token     string
	CSRFToken string
	User      User
	Kind      string
	Role      Role
	ExpiresAt time.Time
}

// PIN reports whether the session was opened with a tablet PIN.
func (s Session) PIN() bool { return s.Kind == KindPIN }

// dummyHash keeps sign-in time the same whether or not the login exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)

// SignIn checks a login and password from a client address. The attempt
// counts against the throttles (throttle.go) before the password is
// checked; while one of them backs off it answers rate_limited (a
// *ThrottledError) without checking the password.
func (s *Service) SignIn(ctx context.Context, login, password, ip string) (Session, error) {
	addr := addressKey(ip)
	var row struct {
		User
		PasswordHash string `db:"password_hash"`
	}
	validLogin := loginRe.MatchString(login)
	if validLogin {
		err := s.db.GetContext(ctx, &row, `SELECT `+userCols+`, password_hash FROM users WHERE login=$1 AND active`, login)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Session{}, err
		}
	}
	place := "ip:" + addr
	known, err := s.knownPlace(ctx, row.ID, place)
	if err != nil {
		return Session{}, err
	}
	var limits []limit
	if validLogin {
		limits = append(limits, limit{key: "pw:login-ip:" + login + "|" + addr, policy: s.accountPlacePolicy(), reset: true})
		if !known {
			limits = append(limits, limit{key: "pw:login:" + login, policy: s.accountPolicy()})
		}
	}
	if !known {
		limits = append(limits, limit{key: "pw:ip:" + addr, policy: s.addressPolicy()})
	}
	var a *Attempt
	if len(limits) > 0 {
		if a, err = s.reserve(ctx, limits, "sign-ins"); err != nil {
			return Session{}, err
		}
	}
	hash := []byte(row.PasswordHash)
	if row.ID == "" {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || row.ID == "" {
		return Session{}, apperr.New(apperr.Unauthorized, "wrong login or password")
	}
	return s.startSession(ctx, row.User, KindPassword, place, "", a)
}

// StartSession creates a password session for an already authenticated user.
func (s *Service) StartSession(ctx context.Context, u User) (Session, error) {
	return s.startSession(ctx, u, KindPassword, "", "", nil)
}

// StartPINSession creates a PIN session (stall work only) for a user whose
// PIN was checked on a paired tablet (CheckDevicePIN).
func (s *Service) StartPINSession(ctx context.Context, u User, deviceID string) (Session, error) {
	return s.startSession(ctx, u, KindPIN, "", deviceID, nil)
}

func (s *Service) startSession(ctx context.Context, u User, kind, place, deviceID string, a *Attempt) (Session, error) {
	sess := Session{Token: randomToken(32), CSRFToken: randomToken(24), User: u, Kind: kind, Role: u.Role, ExpiresAt: time.Now().Add(s.SessionTTL)}
	if kind == KindPIN {
		sess.User.Role = PINRole
	}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if a != nil {
			if err := a.Succeeded(ctx, tx); err != nil {
				return err
			}
		}
		if place != "" {
			if err := rememberPlace(ctx, tx, u.ID, place); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, kind) VALUES ($1,$2,$3,$4,$5)`,
			tokenHash(sess.Token), u.ID, sess.CSRFToken, sess.ExpiresAt, kind); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{CommunityID: u.Community(), UserID: u.ID, Action: "sign_in", Entity: "session", After: map[string]string{"kind": kind, "device_id": deviceID}})
	})
	return sess, err
}

// Session returns the live session of a token. A PIN session acts with
// PINRole.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	var row struct {
		User
		CSRFToken string    `db:"csrf_token"`
		Kind      string    `db:"kind"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT u.id, u.community_id, u.login, u.role, u.display_name, u.active, u.created_at,
			s.csrf_token, s.kind, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash=$1 AND s.expires_at > now() AND u.active`, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, apperr.New(apperr.Unauthorized, "sign in first")
	}
	if err != nil {
		return Session{}, err
	}
	sess := Session{Token: token, CSRFToken: row.CSRFToken, User: row.User, Kind: row.Kind, Role: row.User.Role, ExpiresAt: row.ExpiresAt}
	if sess.PIN() {
		sess.User.Role = PINRole
	}
	return sess, nil
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

// CheckPIN verifies a user's PIN (a second person's approval). The attempt
// counts against the person's PIN throttle before the PIN is checked.
func (s *Service) CheckPIN(ctx context.Context, communityID, userID, pin string) (User, error) {
	return s.checkPIN(ctx, communityID, "", userID, pin)
}

// CheckDevicePIN verifies a PIN entered on a paired tablet: the attempt
// counts against the person's PIN throttle and, unless the person signed in
// on this tablet before, the tablet's throttle, before the PIN is checked.
func (s *Service) CheckDevicePIN(ctx context.Context, communityID, deviceID, userID, pin string) (User, error) {
	if deviceID == "" {
		return User{}, apperr.New(apperr.Unauthorized, "this tablet is not paired with a stall")
	}
	return s.checkPIN(ctx, communityID, deviceID, userID, pin)
}

func (s *Service) checkPIN(ctx context.Context, communityID, deviceID, userID, pin string) (User, error) {
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
	limits := []limit{{key: "pin:user:" + row.ID, policy: s.pinPolicy()}}
	place := ""
	if deviceID != "" {
		place = "device:" + deviceID
		known, err := s.knownPlace(ctx, row.ID, place)
		if err != nil {
			return User{}, err
		}
		if !known {
			limits = append(limits, limit{key: "pin:device:" + deviceID, policy: s.devicePolicy()})
		}
	}
	a, err := s.reserve(ctx, limits, "PINs")
	if err != nil {
		return User{}, err
	}
	if row.PINHash == nil || bcrypt.CompareHashAndPassword([]byte(*row.PINHash), []byte(pin)) != nil {
		return User{}, apperr.New(apperr.Unauthorized, "wrong PIN")
	}
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := a.Succeeded(ctx, tx); err != nil {
			return err
		}
		if place != "" {
			return rememberPlace(ctx, tx, row.ID, place)
		}
		return nil
	})
	return row.User, err
}
