package pos_test

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/pos"
)

func TestPairingAndPINSignIn(t *testing.T) {
	f := setup(t, 0, 0)
	var dev *pos.Device
	var code string
	f.tx(func(tx *sqlx.Tx) (err error) {
		dev, code, err = f.s.CreateDevice(f.ctx, tx, f.cid, f.stall, "牡丹园 平板 1", f.admin)
		return
	})
	var cred string
	f.tx(func(tx *sqlx.Tx) (err error) { _, cred, err = f.s.Pair(f.ctx, tx, code); return })
	if err := f.try(func(tx *sqlx.Tx) error { _, _, err := f.s.Pair(f.ctx, tx, code); return err }); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a pairing code works once: %v", err)
	}
	var stored int
	if err := f.d.Get(&stored, `SELECT count(*) FROM pos_devices WHERE credential_hash = $1::bytea OR pairing_code_hash IS NOT NULL`, []byte(cred)); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Fatal("credentials and used codes must not be stored in clear")
	}
	got, err := f.s.DeviceByCredential(f.ctx, f.d, cred)
	if err != nil || got.ID != dev.ID || got.LocationID != f.stall {
		t.Fatalf("device by credential: %+v %v", got, err)
	}

	vols, err := f.s.Volunteers(f.ctx, f.d, f.cid)
	if err != nil || len(vols) != 3 || vols[0].Role != "volunteer" {
		t.Fatalf("volunteers %+v", vols)
	}
	cases := []struct {
		name, user, pin string
		code            apperr.Code
	}{
		{"right PIN", f.vol1, "1234", ""},
		{"wrong PIN", f.vol1, "4321", apperr.Unauthorized},
		{"someone else's PIN", f.vol1, "5678", apperr.Unauthorized},
		{"no user chosen", "", "1234", apperr.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sess, err := f.s.PINLogin(f.ctx, got, c.user, c.pin)
			if c.code == "" {
				if err != nil || sess.Token == "" || sess.User.ID != c.user {
					t.Fatalf("sign-in: %+v %v", sess, err)
				}
				return
			}
			if !apperr.Is(err, c.code) {
				t.Fatalf("want %s, got %v", c.code, err)
			}
		})
	}
	// Repeated failures lock the volunteer (identity's throttle), then the tablet.
	var last error
	for i := 0; i < 12; i++ {
		_, last = f.s.PINLogin(f.ctx, got, f.vol2, "0000")
	}
	if !apperr.Is(last, apperr.RateLimited) {
		t.Fatalf("after 12 wrong PINs: %v", last)
	}
	if _, err := f.s.PINLogin(f.ctx, got, f.vol2, "5678"); !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("a locked volunteer stays locked even with the right PIN: %v", err)
	}
	// So far the tablet counted 10 failures (李叔's, then he was locked;
	// 王阿姨's wrong PINs came after she signed in here, so they count only
	// against her). 8 of the admin's (under the admin's own limit) make 18,
	// the tablet's limit here.
	f.s.Identity.MaxFailuresPerDevice = 18
	for i := 0; i < 8; i++ {
		if _, err := f.s.PINLogin(f.ctx, got, f.admin, "0000"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("admin's wrong PIN %d: %v", i+1, err)
		}
	}
	if _, err := f.s.PINLogin(f.ctx, got, f.admin, "9999"); !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("a tablet with 18 failures is throttled for someone who never signed in on it: %v", err)
	}
	// Someone who signed in on this tablet before is not locked out by
	// others' failures on it.
	if _, err := f.s.PINLogin(f.ctx, got, f.vol1, "1234"); err != nil {
		t.Fatalf("王阿姨 signed in on this tablet before: %v", err)
	}

	f.tx(func(tx *sqlx.Tx) error { return f.s.RevokeDevice(f.ctx, tx, f.cid, dev.ID) })
	if _, err := f.s.DeviceByCredential(f.ctx, f.d, cred); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a revoked tablet: %v", err)
	}
}
