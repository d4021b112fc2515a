package payment_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shelin/internal/apperr"
	"shelin/internal/money"
	"shelin/orders/payment"
)

// zbar decodes an image file with a real QR reader and returns the text.
func zbar(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("zbarimg", "-q", "--raw", path).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v (install zbar-tools)", path, err)
	}
	return strings.TrimRight(string(out), "\n")
}

func TestQRImagesDecodeToExactlyThePayload(t *testing.T) {
	payloads := []string{
		"http://127.0.0.1:8080/pay/" + payment.Token(),
		"https://shelin.example.cn/pay/" + payment.Token(),
		"weixin://wxpay/bizpayurl?pr=abc123XYZ",
	}
	dir := t.TempDir()
	for i, p := range payloads {
		png, err := payment.QRPNG(p, 512)
		if err != nil {
			t.Fatal(err)
		}
		svg, err := payment.QRSVG(p, 16)
		if err != nil {
			t.Fatal(err)
		}
		pf := filepath.Join(dir, "qr"+string(rune('a'+i))+".png")
		sf := filepath.Join(dir, "qr"+string(rune('a'+i))+".svg")
		os.WriteFile(pf, png, 0o644)
		os.WriteFile(sf, []byte(svg), 0o644)
		if got := zbar(t, pf); got != p {
			t.Errorf("PNG decodes to %q, want %q", got, p)
		}
		if got := zbar(t, sf); got != p {
			t.Errorf("SVG decodes to %q, want %q", got, p)
		}
		if !strings.Contains(svg, "viewBox=") || !strings.Contains(svg, `shape-rendering="crispEdges"`) {
			t.Errorf("SVG must scale crisply: %.120s", svg)
		}
	}
}

func TestSignatureVerification(t *testing.T) {
	secret := []byte("test-secret")
	now := time.Unix(1_790_000_000, 0)
	body := payment.NotificationBody("evt_1", payment.PaymentSucceeded, "p1", money.MustParse("38.00"), "txn", now)
	good := payment.Sign(secret, now, body)

	cases := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		ok     bool
	}{
		{"valid", good, body, now, true},
		{"valid 299 s later", good, body, now.Add(299 * time.Second), true},
		{"stale: 301 s later", good, body, now.Add(301 * time.Second), false},
		{"from the future: 301 s early", good, body, now.Add(-301 * time.Second), false},
		{"body changed", good, []byte(strings.Replace(string(body), "38.00", "3.80", 1)), now, false},
		{"other secret", payment.Sign([]byte("other"), now, body), body, now, false},
		{"timestamp swapped", strings.Replace(good, "t=1790000000", "t=1790000001", 1), body, now, false},
		{"empty header", "", body, now, false},
		{"garbage", "v1=abc", body, now, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := payment.Verify(secret, c.header, c.body, c.at)
			if c.ok && err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if !c.ok && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("want invalid, got %v", err)
			}
		})
	}
}

func TestSandboxParsesWhatItSigns(t *testing.T) {
	s := &payment.SandboxProvider{Secret: []byte("k")}
	now := time.Now()
	body := payment.NotificationBody("evt_9", payment.PaymentSucceeded, "pay-1", money.MustParse("12.50"), "sbx_1", now)
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign(s.Secret, now, body))
	n, err := s.ParseNotification(h, body, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "evt_9" || n.PaymentID != "pay-1" || n.Amount.String() != "12.50" || n.TxnID != "sbx_1" || n.Type != payment.PaymentSucceeded {
		t.Fatalf("parsed %+v", n)
	}
	// A JSON number for the amount is rejected even with a valid signature.
	bad := []byte(`{"id":"e","type":"payment.succeeded","created":1764480000,"data":{"payment_id":"p","amount":12.5}}`)
	h.Set(payment.SignatureHeader, payment.Sign(s.Secret, now, bad))
	if _, err := s.ParseNotification(h, bad, now); err == nil {
		t.Fatal("a float amount must be rejected")
	}
}

// "created" may come as RFC 3339 or as Unix seconds, like the signature's t=.
func TestSandboxNotificationCreatedInUnixSeconds(t *testing.T) {
	s := &payment.SandboxProvider{Secret: []byte("k")}
	now := time.Now()
	body := []byte(`{"id":"evt_u","type":"payment.succeeded","created":` + strconv.FormatInt(now.Unix(), 10) +
		`,"data":{"payment_id":"pay-2","amount":"8.00","provider_txn_id":"t"}}`)
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign(s.Secret, now, body))
	n, err := s.ParseNotification(h, body, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.Created.Unix() != now.Unix() || n.Amount.String() != "8.00" {
		t.Fatalf("parsed %+v", n)
	}
}

func TestRegistry(t *testing.T) {
	r := payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, &payment.SandboxProvider{})
	if _, err := r.Get("wechatpay"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("an unconfigured provider is invalid input, got %v", err)
	}
	if p, err := r.Get("sandbox"); err != nil || p.Method() != "qr" {
		t.Fatalf("sandbox: %v %v", p, err)
	}
	if got := strings.Join(r.Names(), ","); got != "cash,sandbox,static" {
		t.Fatalf("names %s", got)
	}
}
