package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"shelin/internal/apperr"
	"shelin/internal/db"
)

// Service reads and writes identity data.
type Service struct {
	db *sqlx.DB
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// Sign-in throttles (throttle.go). Every attempt counts before the
	// password or PIN is checked, under these keys:
	//   - one login from one address: MaxFailures;
	//   - one login from anywhere: MaxFailuresPerLogin (looser; not applied
	//     at an address where the person signed in successfully before);
	//   - one address, any login: MaxFailuresPerIP (higher, because a
	//     community centre shares one address behind NAT; not applied at an
	//     address the person signed in from before);
	//   - one person's PIN: MaxFailures; one tablet: MaxFailuresPerDevice
	//     (not applied to people who signed in on that tablet before);
	//   - tablet pairing codes tried from one address: MaxPairingsPerIP.
	// Past its limit a key backs off: BackoffBase, doubled with every further
	// failure, at most BackoffMax; failures are forgotten FailureWindow after
	// that wait has passed, and a person's success at a place gives them back.
	MaxFailures          int
	MaxFailuresPerLogin  int
	MaxFailuresPerIP     int
	MaxFailuresPerDevice int
	MaxPairingsPerIP     int
	BackoffBase          time.Duration
	BackoffMax           time.Duration
	FailureWindow        time.Duration
}

// New returns a Service on d.
func New(d *sqlx.DB) *Service {
	return &Service{db: d, SessionTTL: 12 * time.Hour,
		MaxFailures: 10, MaxFailuresPerLogin: 50, MaxFailuresPerIP: 100, MaxFailuresPerDevice: 20, MaxPairingsPerIP: 20,
		BackoffBase: time.Minute, BackoffMax: time.Hour, FailureWindow: 24 * time.Hour}
}

// DB returns the pool (for callers composing transactions).
func (s *Service) DB() *sqlx.DB { return s.db }

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// NewCommunity is the input of CreateCommunity.
type NewCommunity struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Timezone string `json:"timezone"`
}

// CreateCommunity adds a community.
func (s *Service) CreateCommunity(ctx context.Context, tx *sqlx.Tx, in NewCommunity) (Community, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return Community{}, apperr.Field("name", "name is required (at most 200 characters)")
	}
	if !slugRe.MatchString(in.Slug) {
		return Community{}, apperr.Field("slug", "slug must be 2–63 lowercase letters, digits or dashes")
	}
	if in.Timezone == "" {
		in.Timezone = "Asia/Shanghai"
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil {
		return Community{}, apperr.Field("timezone", "unknown time zone %q", in.Timezone)
	}
	var c Community
	err := tx.GetContext(ctx, &c, `INSERT INTO communities (name, slug, timezone) VALUES ($1,$2,$3)
		RETURNING id, name, slug, timezone, created_at`, in.Name, in.Slug, in.Timezone)
	if db.IsUniqueViolation(err, "") {
		return Community{}, apperr.Conflictf("a community with slug %q already exists", in.Slug).WithField("slug")
	}
	return c, err
}

const communityCols = `id, name, slug, timezone, created_at`

// Community returns one community by id.
func (s *Service) Community(ctx context.Context, id string) (Community, error) {
	var c Community
	err := s.db.GetContext(ctx, &c, `SELECT `+communityCols+` FROM communities WHERE id::text=$1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.NotFoundf("community not found")
	}
	return c, err
}

// CommunityBySlug returns one community by slug.
func (s *Service) CommunityBySlug(ctx context.Context, slug string) (Community, error) {
	var c Community
	err := s.db.GetContext(ctx, &c, `SELECT `+communityCols+` FROM communities WHERE slug=$1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.NotFoundf("community not found")
	}
	return c, err
}

// Communities lists all communities.
func (s *Service) Communities(ctx context.Context) ([]Community, error) {
	cs := []Community{}
	err := s.db.SelectContext(ctx, &cs, `SELECT `+communityCols+` FROM communities ORDER BY name`)
	return cs, err
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Login       string `json:"login"`
	Password    string `json:"password"`
	Role        Role   `json:"role"`
	DisplayName string `json:"display_name"`
	PIN         string `json:"pin"`
}

var (
	loginRe = regexp.MustCompile(`^[A-Za-z0-9._@-]{3,64}$`)
	pinRe   = regexp.MustCompile(`^[0-9]{4,6}$`)
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// MaxNameLen is the longest display name, grid or micro-grid name, in
// characters.
const MaxNameLen = 100

// boundedText reports whether s is valid UTF-8 without NUL and at most n
// characters: what PostgreSQL text can store and an index can hold.
func boundedText(s string, n int) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0) && utf8.RuneCountInString(s) <= n
}

func validUUID(s string) bool { return uuidRe.MatchString(s) }

// bcryptCost is lowered by tests through SetFastHashing.
var bcryptCost = bcrypt.DefaultCost

// SetFastHashing makes password hashing cheap; for tests and demo seeding only.
func SetFastHashing() { bcryptCost = bcrypt.MinCost }

// CreateUser adds a user to a community ("" and role platform_admin for a
// platform administrator).
func (s *Service) CreateUser(ctx context.Context, tx *sqlx.Tx, communityID string, in NewUser) (User, error) {
	if !loginRe.MatchString(in.Login) {
		return User{}, apperr.Field("login", "login must be 3–64 letters, digits or . _ @ -")
	}
	if len(in.Password) < 8 || len(in.Password) > 72 {
		return User{}, apperr.Field("password", "password must be 8–72 characters")
	}
	if !in.Role.Valid() {
		return User{}, apperr.Field("role", "role must be one of admin, treasurer, volunteer, leader")
	}
	if (in.Role == PlatformAdmin) != (communityID == "") {
		return User{}, apperr.Field("role", "platform_admin is not a community role")
	}
	if in.PIN != "" && !pinRe.MatchString(in.PIN) {
		return User{}, apperr.Field("pin", "PIN must be 4–6 digits")
	}
	if !boundedText(in.DisplayName, MaxNameLen) {
		return User{}, apperr.Field("display_name", "display name must be at most %d characters", MaxNameLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcryptCost)
	if err != nil {
		return User{}, err
	}
	var pinHash *string
	if in.PIN != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(in.PIN), bcryptCost)
		if err != nil {
			return User{}, err
		}
		ph := string(h)
		pinHash = &ph
	}
	var cid *string
	if communityID != "" {
		cid = &communityID
	}
	var u User
	err = tx.GetContext(ctx, &u, `INSERT INTO users (community_id, login, password_hash, role, display_name, pin_hash)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING `+userCols, cid, in.Login, string(hash), in.Role, strings.TrimSpace(in.DisplayName), pinHash)
	if db.IsUniqueViolation(err, "") {
		return User{}, apperr.Conflictf("login %q is taken", in.Login).WithField("login")
	}
	return u, err
}

const userCols = `id, community_id, login, role, display_name, active, created_at`

// Users lists a community's users.
func (s *Service) Users(ctx context.Context, communityID string) ([]User, error) {
	us := []User{}
	err := s.db.SelectContext(ctx, &us, `SELECT `+userCols+` FROM users WHERE community_id::text=$1 ORDER BY login`, communityID)
	return us, err
}

// User returns one user by id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userCols+` FROM users WHERE id::text=$1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.NotFoundf("user not found")
	}
	return u, err
}

// UserByLogin returns one user by login.
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userCols+` FROM users WHERE login=$1`, login)
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.NotFoundf("user not found")
	}
	return u, err
}

// EnsurePlatformAdmin creates the bootstrap platform administrator when no
// user with that login exists. It reports whether it created one.
func (s *Service) EnsurePlatformAdmin(ctx context.Context, login, password string) (bool, error) {
	created := false
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM users WHERE login=$1`, login); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		u, err := s.CreateUser(ctx, tx, "", NewUser{Login: login, Password: password, Role: PlatformAdmin, DisplayName: "Platform admin"})
		if err != nil {
			return err
		}
		created = true
		return Audit(ctx, tx, AuditEntry{UserID: u.ID, Action: "bootstrap", Entity: "user", EntityID: u.ID, After: u})
	})
	return created, err
}

// CreateGrid adds a grid (网格) to a community.
func (s *Service) CreateGrid(ctx context.Context, tx *sqlx.Tx, communityID, name string) (Grid, error) {
	name = strings.TrimSpace(name)
	if name == "" || !boundedText(name, MaxNameLen) {
		return Grid{}, apperr.Field("name", "name is required (at most %d characters)", MaxNameLen)
	}
	var g Grid
	err := tx.GetContext(ctx, &g, `INSERT INTO grids (community_id, name) VALUES ($1,$2) RETURNING id, community_id, name`, communityID, name)
	if db.IsUniqueViolation(err, "") {
		return g, apperr.Conflictf("grid %q exists", name).WithField("name")
	}
	return g, err
}

// NewMicroGrid is the input of CreateMicroGrid.
type NewMicroGrid struct {
	GridID       string  `json:"grid_id"`
	Name         string  `json:"name"`
	Households   int     `json:"households"`
	LeaderUserID *string `json:"leader_user_id"`
}

// CreateMicroGrid adds a micro-grid with its 邻长 (a user with role leader).
func (s *Service) CreateMicroGrid(ctx context.Context, tx *sqlx.Tx, communityID string, in NewMicroGrid) (MicroGrid, error) {
	if strings.TrimSpace(in.Name) == "" || !boundedText(in.Name, MaxNameLen) {
		return MicroGrid{}, apperr.Field("name", "name is required (at most %d characters)", MaxNameLen)
	}
	if in.Households < 0 || in.Households > 100000 {
		return MicroGrid{}, apperr.Field("households", "households must be 0–100000")
	}
	if !validUUID(in.GridID) {
		return MicroGrid{}, apperr.NotFoundf("grid not found").WithField("grid_id")
	}
	if in.LeaderUserID != nil && !validUUID(*in.LeaderUserID) {
		return MicroGrid{}, apperr.Field("leader_user_id", "the 邻长 must be a leader of this community")
	}
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM grids WHERE id::text=$1 AND community_id=$2)`, in.GridID, communityID); err != nil {
		return MicroGrid{}, err
	}
	if !ok {
		return MicroGrid{}, apperr.NotFoundf("grid not found").WithField("grid_id")
	}
	if in.LeaderUserID != nil {
		if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM users WHERE id::text=$1 AND community_id=$2 AND role='leader')`, *in.LeaderUserID, communityID); err != nil {
			return MicroGrid{}, err
		}
		if !ok {
			return MicroGrid{}, apperr.Field("leader_user_id", "the 邻长 must be a leader of this community")
		}
	}
	var m MicroGrid
	err := tx.GetContext(ctx, &m, `INSERT INTO micro_grids (community_id, grid_id, name, households, leader_user_id)
		VALUES ($1,$2,$3,$4,$5) RETURNING id, community_id, grid_id, name, households, leader_user_id`,
		communityID, in.GridID, strings.TrimSpace(in.Name), in.Households, in.LeaderUserID)
	if db.IsUniqueViolation(err, "") {
		return m, apperr.Conflictf("micro-grid %q exists", in.Name).WithField("name")
	}
	return m, err
}

// Grids lists a community's grids.
func (s *Service) Grids(ctx context.Context, communityID string) ([]Grid, error) {
	gs := []Grid{}
	err := s.db.SelectContext(ctx, &gs, `SELECT id, community_id, name FROM grids WHERE community_id::text=$1 ORDER BY name`, communityID)
	return gs, err
}

// MicroGrids lists a community's micro-grids.
func (s *Service) MicroGrids(ctx context.Context, communityID string) ([]MicroGrid, error) {
	ms := []MicroGrid{}
	err := s.db.SelectContext(ctx, &ms, `SELECT id, community_id, grid_id, name, households, leader_user_id
		FROM micro_grids WHERE community_id::text=$1 ORDER BY name`, communityID)
	return ms, err
}

// AuditEntry is one row of the audit log: who did what to which entity.
type AuditEntry struct {
	CommunityID string
	UserID      string
	Action      string
	Entity      string
	EntityID    string
	Before      any
	After       any
}

// Audit writes an audit row in the caller's transaction.
func Audit(ctx context.Context, tx *sqlx.Tx, e AuditEntry) error {
	enc := func(v any) ([]byte, error) {
		if v == nil {
			return nil, nil
		}
		return json.Marshal(v)
	}
	before, err := enc(e.Before)
	if err != nil {
		return err
	}
	after, err := enc(e.After)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (community_id, user_id, action, entity, entity_id, before, after)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`, nullable(e.CommunityID), nullable(e.UserID), e.Action, e.Entity, e.EntityID, before, after)
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// randomToken returns n random bytes, URL-safe base64 encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
