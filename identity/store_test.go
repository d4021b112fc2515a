package identity_test

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
	"shelin/internal/apperr"
	"shelin/internal/db"
)

// Text that PostgreSQL could not store or index is refused with its field
// before it reaches the database.
func TestOversizedNamesAreRefusedWithTheirField(t *testing.T) {
	f := setup(t)
	big := strings.Repeat("界", 400000)
	for _, c := range []struct {
		field string
		do    func(tx *sqlx.Tx) error
	}{
		{"display_name", func(tx *sqlx.Tx) error {
			_, err := f.ids.CreateUser(f.ctx, tx, f.com.ID, identity.NewUser{Login: "long-" + f.com.Slug, Password: "password-123", Role: identity.Volunteer, DisplayName: big})
			return err
		}},
		{"display_name", func(tx *sqlx.Tx) error {
			_, err := f.ids.CreateUser(f.ctx, tx, f.com.ID, identity.NewUser{Login: "nul-" + f.com.Slug, Password: "password-123", Role: identity.Volunteer, DisplayName: "a\x00b"})
			return err
		}},
		{"name", func(tx *sqlx.Tx) error { _, err := f.ids.CreateGrid(f.ctx, tx, f.com.ID, big); return err }},
		{"name", func(tx *sqlx.Tx) error {
			_, err := f.ids.CreateMicroGrid(f.ctx, tx, f.com.ID, identity.NewMicroGrid{GridID: "x", Name: big})
			return err
		}},
		{"households", func(tx *sqlx.Tx) error {
			_, err := f.ids.CreateMicroGrid(f.ctx, tx, f.com.ID, identity.NewMicroGrid{GridID: "x", Name: "一号", Households: 1 << 40})
			return err
		}},
	} {
		err := db.InTx(f.ctx, f.ids.DB(), c.do)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Field != c.field {
			t.Errorf("want invalid %s, got %v", c.field, err)
		}
	}
}
