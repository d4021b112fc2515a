package pos

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/orders"
)

// Device is a tablet paired (or waiting to be paired) to a stall.
type Device struct {
	ID               string     `db:"id" json:"id"`
	CommunityID      string     `db:"community_id" json:"community_id"`
	LocationID       string     `db:"location_id" json:"location_id"`
	Name             string     `db:"name" json:"name"`
	PairingExpiresAt *time.Time `db:"pairing_expires_at" json:"pairing_expires_at,omitempty"`
	PairedAt         *time.Time `db:"paired_at" json:"paired_at,omitempty"`
	RevokedAt        *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
	CreatedAt        time.Time  `db:"created_at" json:"created_at"`
}

const deviceCols = `id, community_id, location_id, name, pairing_expires_at, paired_at, revoked_at, created_at`

// PairingTTL is how long a pairing code works.
const PairingTTL = 15 * time.Minute

// codeAlphabet avoids look-alikes (0/O, 1/I/L) so a code can be typed.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func pairingCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String()
}

func normalizeCode(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	code = strings.ReplaceAll(code, " ", "")
	if len(code) == 8 && !strings.Contains(code, "-") {
		code = code[:4] + "-" + code[4:]
	}
	return code
}

// CreateDevice registers a tablet for a stall and returns the pairing code
// an admin shows it (valid PairingTTL, used once).
func (s *Service) CreateDevice(ctx context.Context, tx *sqlx.Tx, communityID, locationID, name, createdBy string) (*Device, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", apperr.Field("name", "give the tablet a name (1–100 characters)")
	}
	if _, err := s.sellableStall(ctx, tx, communityID, locationID); err != nil {
		return nil, "", err
	}
	code := pairingCode()
	var d Device
	err := tx.GetContext(ctx, &d, `INSERT INTO pos_devices (community_id, location_id, name, pairing_code_hash, pairing_expires_at, created_by)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING `+deviceCols, communityID, locationID, name, hash(code), s.now().Add(PairingTTL), nullable(createdBy))
	if err != nil {
		return nil, "", err
	}
	return &d, code, nil
}

// Pair exchanges a pairing code for the device's long-lived credential. The
// code works once; only hashes of code and credential are stored.
func (s *Service) Pair(ctx context.Context, tx *sqlx.Tx, code string) (*Device, string, error) {
	var d Device
	err := tx.GetContext(ctx, &d, `SELECT `+deviceCols+` FROM pos_devices
		WHERE pairing_code_hash=$1 AND pairing_expires_at > $2 AND revoked_at IS NULL FOR UPDATE`, hash(normalizeCode(code)), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", apperr.New(apperr.Unauthorized, "this pairing code is wrong or has expired; ask an admin for a new one").WithField("code")
	}
	if err != nil {
		return nil, "", err
	}
	cred := "dev_" + randomToken(32)
	if err := tx.GetContext(ctx, &d, `UPDATE pos_devices SET credential_hash=$2, paired_at=$3, pairing_code_hash=NULL, pairing_expires_at=NULL
		WHERE id=$1 RETURNING `+deviceCols, d.ID, hash(cred), s.now()); err != nil {
		return nil, "", err
	}
	return &d, cred, nil
}

// DeviceByCredential returns the paired, unrevoked device of a credential.
func (s *Service) DeviceByCredential(ctx context.Context, q sqlx.QueryerContext, credential string) (*Device, error) {
	if credential == "" {
		return nil, apperr.New(apperr.Unauthorized, "this tablet is not paired with a stall")
	}
	var d Device
	err := sqlx.GetContext(ctx, q, &d, `SELECT `+deviceCols+` FROM pos_devices WHERE credential_hash=$1 AND revoked_at IS NULL`, hash(credential))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Unauthorized, "this tablet is not paired with a stall (or was unpaired)")
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Devices lists the community's tablets.
func (s *Service) Devices(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Device, error) {
	out := []Device{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+deviceCols+` FROM pos_devices WHERE community_id=$1 ORDER BY created_at`, communityID)
	return out, err
}

// RevokeDevice unpairs a tablet; its credential stops working at once.
func (s *Service) RevokeDevice(ctx context.Context, tx *sqlx.Tx, communityID, deviceID string) error {
	if !orders.ValidID(deviceID) {
		return apperr.NotFoundf("device not found")
	}
	res, err := tx.ExecContext(ctx, `UPDATE pos_devices SET revoked_at=now() WHERE id=$1 AND community_id=$2 AND revoked_at IS NULL`, deviceID, communityID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.NotFoundf("device not found")
	}
	return nil
}

// Volunteer is someone who can sign in on a tablet.
type Volunteer struct {
	ID          string `db:"id" json:"id"`
	DisplayName string `db:"display_name" json:"display_name"`
	Role        string `db:"role" json:"role"`
}

// Volunteers lists the people of the community who have a PIN.
func (s *Service) Volunteers(ctx context.Context, q sqlx.QueryerContext, communityID string) ([]Volunteer, error) {
	out := []Volunteer{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, CASE WHEN display_name = '' THEN login ELSE display_name END AS display_name, role
		FROM users WHERE community_id=$1 AND active AND pin_hash IS NOT NULL AND role IN ('volunteer','admin','treasurer')
		ORDER BY role = 'volunteer' DESC, display_name`, communityID)
	return out, err
}

var posRoles = map[identity.Role]bool{identity.Volunteer: true, identity.Admin: true, identity.Treasurer: true}

// CheckPIN verifies a PIN entered on a paired device. Identity counts the
// attempt against the person's and the tablet's throttles in one step
// before the PIN is checked, so parallel guesses cannot pass the limit.
func (s *Service) CheckPIN(ctx context.Context, dev *Device, userID, pin string) (identity.User, error) {
	if !orders.ValidID(userID) {
		return identity.User{}, apperr.Field("user_id", "choose who you are first")
	}
	if len(pin) > 12 {
		return identity.User{}, apperr.Field("pin", "a PIN is 4–6 digits")
	}
	u, err := s.Identity.CheckDevicePIN(ctx, dev.CommunityID, dev.ID, userID, pin)
	if err != nil {
		return identity.User{}, err
	}
	if !posRoles[u.Role] {
		return identity.User{}, apperr.New(apperr.Forbidden, "only volunteers, treasurers and admins sign in at a stall")
	}
	return u, nil
}

// PINLogin signs a volunteer in on a paired device and starts their PIN
// session: stall work only, whatever their role (identity.PINRole).
func (s *Service) PINLogin(ctx context.Context, dev *Device, userID, pin string) (identity.Session, error) {
	u, err := s.CheckPIN(ctx, dev, userID, pin)
	if err != nil {
		return identity.Session{}, err
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE pos_devices SET last_seen_at=now() WHERE id=$1`, dev.ID); err != nil {
		return identity.Session{}, err
	}
	return s.Identity.StartPINSession(ctx, u, dev.ID)
}

// Approval actions that need a second person's PIN.
const (
	ActionRefund   = "refund"
	ActionDiscount = "discount"
	ActionVoid     = "void"
)

// Approver identifies the second person: their user id and PIN.
type Approver struct {
	UserID string `json:"user_id"`
	PIN    string `json:"pin"`
}

// Approve checks a second person's PIN for a sensitive action by
// requestedBy and returns the approver. It must be someone else, with the
// right to sell. The caller records it with RecordApproval in its step.
// Writes that can be replayed (sales, refunds) never carry the PIN: it is
// checked here once by IssueApproval, which hands out an approval token
// that the write uses with ConsumeApproval.
func (s *Service) Approve(ctx context.Context, communityID, requestedBy string, a Approver) (identity.User, error) {
	if a.UserID == "" || a.PIN == "" {
		return identity.User{}, apperr.Field("approver", "a second person's PIN is needed for this")
	}
	if a.UserID == requestedBy {
		return identity.User{}, apperr.Field("approver", "the second PIN must be someone else's")
	}
	if !orders.ValidID(a.UserID) {
		return identity.User{}, apperr.Field("approver.user_id", "unknown approver")
	}
	u, err := s.Identity.CheckPIN(ctx, communityID, a.UserID, a.PIN)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code != apperr.RateLimited && e.Code != apperr.Internal {
			return identity.User{}, apperr.New(apperr.Forbidden, "the second person's PIN was not accepted: %s", e.Message).WithField("approver")
		}
		return identity.User{}, err
	}
	if !posRoles[u.Role] {
		return identity.User{}, apperr.New(apperr.Forbidden, "the approver must be a volunteer, treasurer or admin").WithField("approver")
	}
	return u, nil
}

// RecordApproval writes who asked and who approved, in the action's transaction.
func RecordApproval(ctx context.Context, tx *sqlx.Tx, communityID, action, entityID, requestedBy, approvedBy string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pos_approvals (community_id, action, entity_id, requested_by, approved_by) VALUES ($1,$2,$3,$4,$5)`,
		communityID, action, entityID, requestedBy, approvedBy)
	return err
}
