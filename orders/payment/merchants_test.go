package payment

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"unicode/utf8"

	"shelin/internal/apperr"
)

// Sealed settings open only with the same secret key and for the same
// community and provider (the associated data binds them).
func TestMerchantSecretsAreSealedToTheirCommunity(t *testing.T) {
	m := NewMerchants(nil, []byte("server-secret-key-0123456789"))
	plain := []byte(`{"apiv3_key":"0123456789abcdef0123456789abcdef"}`)
	sealed, err := m.seal(plain, aadOf("c1", WeChatPay))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("0123456789abcdef")) {
		t.Fatal("the sealed settings contain the key in clear")
	}
	again, err := m.seal(plain, aadOf("c1", WeChatPay))
	if err != nil || bytes.Equal(again, sealed) {
		t.Fatalf("sealing twice must use a fresh nonce (%v)", err)
	}
	got, err := m.open(sealed, aadOf("c1", WeChatPay))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %s %v", got, err)
	}
	if _, err := m.open(sealed, aadOf("c2", WeChatPay)); err == nil {
		t.Fatal("settings sealed for one community opened for another")
	}
	if _, err := m.open(sealed, aadOf("c1", Alipay)); err == nil {
		t.Fatal("WeChat settings opened as Alipay's")
	}
	other := NewMerchants(nil, []byte("another-server-secret-key"))
	if _, err := other.open(sealed, aadOf("c1", WeChatPay)); err == nil || !strings.Contains(err.Error(), "SHELIN_SECRET_KEY") {
		t.Fatalf("another secret key: %v", err)
	}
}

func TestWeChatSettingsValidateNamesTheField(t *testing.T) {
	cases := map[string]func(*WeChatSettings){
		"mchid":       func(s *WeChatSettings) { s.MchID = " " },
		"apiv3_key":   func(s *WeChatSettings) { s.APIv3Key = "short" },
		"private_key": func(s *WeChatSettings) { s.PrivateKeyPEM = "not a key" },
		"public_key":  func(s *WeChatSettings) { s.PublicKeyPEM, s.PublicKeyID = "", "" },
	}
	for field, spoil := range cases {
		s := WeChatSettings{MchID: "1900000109", AppID: "wx8888888888888888", SerialNo: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
			PrivateKeyPEM: testKeyPEM, APIv3Key: strings.Repeat("k", 32), PublicKeyID: "PUB_KEY_ID_1", PublicKeyPEM: testPubPEM}
		if err := s.Validate(); err != nil {
			t.Fatalf("valid settings refused: %v", err)
		}
		spoil(&s)
		err := s.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", field)
		}
		if got := apperr.FieldOf(err); got != field {
			t.Fatalf("%s: error names %q (%v)", field, got, err)
		}
	}
}

func TestWeChatBillParsing(t *testing.T) {
	good := "\ufeff交易时间,商户订单号,应结订单金额\r\n`2026-11-30 10:00:00,`SL1,`38.00\r\n`2026-11-30 11:00:00,`SL2,`5.50\r\n总交易单数,应结订单总金额\r\n`2,`43.50\r\n"
	b, err := ParseWeChatBill([]byte(good))
	if err != nil || len(b.Rows) != 2 || b.Rows[1][1] != "SL2" || b.Summary[1] != "43.50" {
		t.Fatalf("parsed %+v %v", b, err)
	}
	for name, bad := range map[string]string{
		"no backtick":   strings.Replace(good, "`SL2", "SL2", 1),
		"count differs": strings.Replace(good, "`2,`43.50", "`3,`43.50", 1),
		"no summary":    "交易时间,商户订单号\r\n`2026-11-30 10:00:00,`SL1\r\n",
	} {
		if _, err := ParseWeChatBill([]byte(bad)); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
}

var testKeyPEM, testPubPEM = func() (string, string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return PEMPrivateKey(k), PEMPublicKey(&k.PublicKey)
}()

func TestTruncateBytesKeepsCharactersWhole(t *testing.T) {
	s := "牡丹园摊位 MD-1201-0001"
	for n := 0; n <= len(s)+2; n++ {
		got := truncateBytes(s, n)
		if len(got) > n || !strings.HasPrefix(s, got) || !utf8.ValidString(got) {
			t.Fatalf("truncateBytes(%q, %d) = %q", s, n, got)
		}
	}
	if truncateBytes(s, len(s)) != s {
		t.Fatal("a short enough text was cut")
	}
}
