package payment

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"shelin/internal/apperr"
)

// WeChatSettings is a community's WeChat Pay v3 merchant account. Either the
// WeChat Pay public key (PublicKeyID + PublicKeyPEM, the current mode) or
// the platform certificates (PlatformCertsPEM, the older mode) verify what
// WeChat signs.
type WeChatSettings struct {
	MchID            string `json:"mchid"`
	AppID            string `json:"appid"`
	SerialNo         string `json:"serial_no"`         // the merchant API certificate's serial number
	PrivateKeyPEM    string `json:"private_key"`       // apiclient_key.pem
	APIv3Key         string `json:"apiv3_key"`         // 32 characters
	PublicKeyID      string `json:"public_key_id"`     // PUB_KEY_ID_…
	PublicKeyPEM     string `json:"public_key"`        // pub_key.pem
	PlatformCertsPEM string `json:"platform_certs"`    // one or more CERTIFICATE blocks
	Sandbox          bool   `json:"sandbox,omitempty"` // unused by WeChat; kept for symmetry
}

// AlipaySettings is a community's Alipay open-platform app for 当面付.
// Either the Alipay public key (public-key mode) or the three certificates
// (certificate mode) verify what Alipay signs.
type AlipaySettings struct {
	AppID           string `json:"app_id"`
	PrivateKeyPEM   string `json:"private_key"`       // the app's RSA2 private key (PKCS#1 or PKCS#8)
	AlipayPublicKey string `json:"alipay_public_key"` // public-key mode
	AppCertPEM      string `json:"app_cert,omitempty"`
	AlipayCertPEM   string `json:"alipay_cert,omitempty"`
	RootCertPEM     string `json:"root_cert,omitempty"`
	SellerID        string `json:"seller_id,omitempty"` // the merchant's PID (2088…), checked on callbacks when set
	Sandbox         bool   `json:"sandbox"`
}

// Merchant is one stored merchant account (its secrets stay sealed here).
type Merchant struct {
	CommunityID string     `db:"community_id" json:"-"`
	Provider    string     `db:"provider" json:"provider"`
	MerchantID  string     `db:"merchant_id" json:"merchant_id"`
	AppID       string     `db:"app_id" json:"app_id"`
	KeyID       string     `db:"key_id" json:"key_id"`
	Sandbox     bool       `db:"sandbox" json:"sandbox"`
	Sealed      []byte     `db:"sealed" json:"-"`
	Version     int        `db:"version" json:"version"`
	UpdatedAt   time.Time  `db:"updated_at" json:"updated_at"`
	LastTestAt  *time.Time `db:"last_test_at" json:"last_test_at,omitempty"`
	LastTestOK  *bool      `db:"last_test_ok" json:"last_test_ok,omitempty"`
	LastTestMsg string     `db:"last_test_msg" json:"last_test_message,omitempty"`
}

const merchantCols = `community_id, provider, merchant_id, app_id, key_id, sandbox, sealed, version, updated_at, last_test_at, last_test_ok, last_test_msg`

// Merchants stores merchant accounts with their secrets sealed under a key
// derived from the server's secret key (SHELIN_SECRET_KEY).
type Merchants struct {
	DB  *sqlx.DB
	key []byte
}

// NewMerchants derives the sealing key from the server's secret key.
func NewMerchants(d *sqlx.DB, secretKey []byte) *Merchants {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte("shelin/payment-merchants/v1"))
	return &Merchants{DB: d, key: m.Sum(nil)}
}

func (m *Merchants) seal(plain []byte, aad string) ([]byte, error) {
	if len(m.key) != 32 {
		return nil, errors.New("payment: merchant settings need a secret key")
	}
	block, err := aes.NewCipher(m.key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, []byte(aad)), nil
}

func (m *Merchants) open(sealed []byte, aad string) ([]byte, error) {
	block, err := aes.NewCipher(m.key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("payment: sealed merchant settings are too short")
	}
	out, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(aad))
	if err != nil {
		return nil, errors.New("payment: merchant settings cannot be opened (was SHELIN_SECRET_KEY changed?)")
	}
	return out, nil
}

func aadOf(communityID, provider string) string { return communityID + "/" + provider }

// Validate checks a WeChat account's fields and parses its keys.
func (s *WeChatSettings) Validate() error {
	s.MchID, s.AppID, s.SerialNo = strings.TrimSpace(s.MchID), strings.TrimSpace(s.AppID), strings.TrimSpace(s.SerialNo)
	s.APIv3Key, s.PublicKeyID = strings.TrimSpace(s.APIv3Key), strings.TrimSpace(s.PublicKeyID)
	switch {
	case s.MchID == "":
		return apperr.Field("mchid", "the merchant id (商户号) is needed")
	case s.AppID == "":
		return apperr.Field("appid", "the AppID bound to the merchant is needed")
	case s.SerialNo == "":
		return apperr.Field("serial_no", "the merchant certificate serial number is needed")
	case len(s.APIv3Key) != 32:
		return apperr.Field("apiv3_key", "the APIv3 key has exactly 32 characters")
	}
	if _, err := ParseRSAPrivateKey(s.PrivateKeyPEM); err != nil {
		return apperr.Field("private_key", "the merchant private key is not a PEM RSA private key")
	}
	if s.PublicKeyPEM != "" || s.PublicKeyID != "" {
		if s.PublicKeyID == "" {
			return apperr.Field("public_key_id", "the WeChat Pay public key id is needed with the public key")
		}
		if _, err := ParseRSAPublicKey(s.PublicKeyPEM); err != nil {
			return apperr.Field("public_key", "the WeChat Pay public key is not a PEM RSA public key")
		}
		return nil
	}
	certs, err := ParseCertificates(s.PlatformCertsPEM)
	if err != nil || len(certs) == 0 {
		return apperr.Field("public_key", "give the WeChat Pay public key (with its id) or the platform certificates")
	}
	return nil
}

// KeyIDs are the serials WeChat names in Wechatpay-Serial for this account.
func (s *WeChatSettings) KeyIDs() []string {
	if s.PublicKeyID != "" {
		return []string{s.PublicKeyID}
	}
	certs, _ := ParseCertificates(s.PlatformCertsPEM)
	var out []string
	for _, c := range certs {
		out = append(out, CertSerial(c))
	}
	return out
}

// Validate checks an Alipay app's fields and parses its keys.
func (s *AlipaySettings) Validate() error {
	s.AppID, s.SellerID = strings.TrimSpace(s.AppID), strings.TrimSpace(s.SellerID)
	if s.AppID == "" {
		return apperr.Field("app_id", "the Alipay app id (APPID) is needed")
	}
	if _, err := ParseRSAPrivateKey(s.PrivateKeyPEM); err != nil {
		return apperr.Field("private_key", "the app private key is not an RSA private key (PEM or base64)")
	}
	if s.AlipayPublicKey != "" {
		if _, err := ParseRSAPublicKey(s.AlipayPublicKey); err != nil {
			return apperr.Field("alipay_public_key", "the Alipay public key is not an RSA public key (PEM or base64)")
		}
		return nil
	}
	if s.AppCertPEM == "" || s.AlipayCertPEM == "" || s.RootCertPEM == "" {
		return apperr.Field("alipay_public_key", "give the Alipay public key, or the app, Alipay and root certificates")
	}
	return nil
}

// PutWeChat stores (replaces) a community's WeChat account.
func (m *Merchants) PutWeChat(ctx context.Context, communityID, by string, s WeChatSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return m.put(ctx, communityID, WeChatPay, by, s.MchID, s.AppID, strings.Join(s.KeyIDs(), ","), false, s)
}

// PutAlipay stores (replaces) a community's Alipay app.
func (m *Merchants) PutAlipay(ctx context.Context, communityID, by string, s AlipaySettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return m.put(ctx, communityID, Alipay, by, s.AppID, s.AppID, s.SellerID, s.Sandbox, s)
}

func (m *Merchants) put(ctx context.Context, communityID, provider, by, merchantID, appID, keyID string, sandbox bool, v any) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := m.seal(plain, aadOf(communityID, provider))
	if err != nil {
		return err
	}
	var byID any
	if by != "" {
		byID = by
	}
	_, err = m.DB.ExecContext(ctx, `INSERT INTO payment_merchants (community_id, provider, merchant_id, app_id, key_id, sandbox, sealed, updated_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (community_id, provider) DO UPDATE SET merchant_id=EXCLUDED.merchant_id, app_id=EXCLUDED.app_id, key_id=EXCLUDED.key_id,
			sandbox=EXCLUDED.sandbox, sealed=EXCLUDED.sealed, updated_by=EXCLUDED.updated_by, updated_at=now(),
			version=payment_merchants.version+1, last_test_at=NULL, last_test_ok=NULL, last_test_msg=''`,
		communityID, provider, merchantID, appID, keyID, sandbox, sealed, byID)
	return err
}

// Get returns a community's stored account (secrets sealed), not_found when
// none is configured.
func (m *Merchants) Get(ctx context.Context, communityID, provider string) (*Merchant, error) {
	var r Merchant
	err := sqlx.GetContext(ctx, m.DB, &r, `SELECT `+merchantCols+` FROM payment_merchants WHERE community_id=$1 AND provider=$2`, communityID, provider)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("no %s merchant account is set up for this community", provider)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// List returns the community's accounts (secrets sealed).
func (m *Merchants) List(ctx context.Context, communityID string) ([]Merchant, error) {
	var out []Merchant
	err := sqlx.SelectContext(ctx, m.DB, &out, `SELECT `+merchantCols+` FROM payment_merchants WHERE community_id=$1 ORDER BY provider`, communityID)
	return out, err
}

// RecordTest remembers the result of "test connection".
func (m *Merchants) RecordTest(ctx context.Context, communityID, provider string, ok bool, msg string) error {
	_, err := m.DB.ExecContext(ctx, `UPDATE payment_merchants SET last_test_at=now(), last_test_ok=$3, last_test_msg=$4
		WHERE community_id=$1 AND provider=$2`, communityID, provider, ok, msg)
	return err
}

// WeChat opens a community's WeChat account.
func (m *Merchants) WeChat(ctx context.Context, communityID string) (*WeChatSettings, *Merchant, error) {
	r, err := m.Get(ctx, communityID, WeChatPay)
	if err != nil {
		return nil, nil, err
	}
	var s WeChatSettings
	if err := m.unseal(r, &s); err != nil {
		return nil, nil, err
	}
	return &s, r, nil
}

// Alipay opens a community's Alipay app.
func (m *Merchants) Alipay(ctx context.Context, communityID string) (*AlipaySettings, *Merchant, error) {
	r, err := m.Get(ctx, communityID, Alipay)
	if err != nil {
		return nil, nil, err
	}
	var s AlipaySettings
	if err := m.unseal(r, &s); err != nil {
		return nil, nil, err
	}
	return &s, r, nil
}

func (m *Merchants) unseal(r *Merchant, v any) error {
	plain, err := m.open(r.Sealed, aadOf(r.CommunityID, r.Provider))
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// CommunitiesByKey lists the communities whose WeChat account is verified by
// the key id WeChat names in Wechatpay-Serial.
func (m *Merchants) CommunitiesByKey(ctx context.Context, keyID string) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, m.DB, &out, `SELECT community_id FROM payment_merchants
		WHERE provider='wechatpay' AND $1 = ANY(string_to_array(key_id, ',')) ORDER BY community_id`, keyID)
	return out, err
}

// CommunitiesByApp lists the communities using an Alipay app id.
func (m *Merchants) CommunitiesByApp(ctx context.Context, appID string) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, m.DB, &out, `SELECT community_id FROM payment_merchants WHERE provider='alipay' AND app_id=$1 ORDER BY community_id`, appID)
	return out, err
}

// CommunityOfRef finds the community of a payment by its merchant_ref.
func (m *Merchants) CommunityOfRef(ctx context.Context, merchantRef string) (string, error) {
	var cid string
	err := sqlx.GetContext(ctx, m.DB, &cid, `SELECT community_id FROM payments WHERE merchant_ref=$1`, merchantRef)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.NotFoundf("no payment %s", merchantRef)
	}
	return cid, err
}

// ParseRSAPrivateKey reads a PEM (or bare base64 DER) RSA private key, PKCS#1 or PKCS#8.
func ParseRSAPrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := pemOrBase64(s)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// ParseRSAPublicKey reads a PEM (or bare base64 DER) RSA public key (PKIX or PKCS#1).
func ParseRSAPublicKey(s string) (*rsa.PublicKey, error) {
	der, err := pemOrBase64(s)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key")
	}
	return x509.ParsePKCS1PublicKey(der)
}

// ParseCertificates reads every CERTIFICATE block of s.
func ParseCertificates(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func pemOrBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, _ := pem.Decode([]byte(s)); b != nil {
		return b.Bytes, nil
	}
	if s == "" {
		return nil, errors.New("empty key")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("not PEM or base64: %w", err)
	}
	return der, nil
}

// PEMPrivateKey and PEMPublicKey write keys as PEM (fakes, tests, settings).
func PEMPrivateKey(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// PEMPublicKey writes a public key as a PKIX PEM block.
func PEMPublicKey(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Configured reports, in q (e.g. the checkout's transaction), whether a
// community has an account at provider: a conflict error that says what to
// do when it has none.
func Configured(ctx context.Context, q sqlx.QueryerContext, communityID, provider string) error {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM payment_merchants WHERE community_id=$1 AND provider=$2`, communityID, provider); err != nil {
		return err
	}
	if n == 0 {
		return apperr.Conflictf("%s is not set up for this community: an admin enters the merchant account on the payment settings page first", provider)
	}
	return nil
}

// CertSerial is a certificate's serial as WeChat writes it in
// Wechatpay-Serial (upper-case hex of its bytes, as the SDK does).
func CertSerial(c *x509.Certificate) string {
	return utils.GetCertificateSerialNumber(*c)
}
