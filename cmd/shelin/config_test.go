package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

func validConfig() config {
	return config{
		DatabaseURL: "postgres://postgres@127.0.0.1:5432/shelin?sslmode=disable", Addr: ":8080",
		SecretKey:     strings.Repeat("ab", 32),
		SandboxSecret: "0123456789abcdef", LogFormat: "json",
	}
}

func TestConfigNamesWhatIsWrongInOneLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*config)
		want   string
	}{
		{"no database", func(c *config) { c.DatabaseURL = "" }, "DATABASE_URL"},
		{"not postgres", func(c *config) { c.DatabaseURL = "mysql://x" }, "DATABASE_URL"},
		{"bad addr", func(c *config) { c.Addr = "8080" }, "SHELIN_ADDR"},
		{"port out of range", func(c *config) { c.Addr = ":99999" }, "1 to 65535"},
		{"port zero", func(c *config) { c.Addr = "127.0.0.1:0" }, "1 to 65535"},
		{"port not a number", func(c *config) { c.Addr = ":http" }, "1 to 65535"},
		{"no secret", func(c *config) { c.SecretKey = "" }, "SHELIN_SECRET_KEY is not set"},
		{"bad base url", func(c *config) { c.BaseURL = "ftp://x" }, "SHELIN_BASE_URL"},
		{"short secret", func(c *config) { c.SecretKey = "abcd" }, "SHELIN_SECRET_KEY"},
		{"no sandbox secret", func(c *config) { c.Sandbox, c.SandboxSecret = "on", "" }, "SHELIN_SANDBOX_SECRET"},
		{"sandbox neither on nor off", func(c *config) { c.Sandbox = "yes" }, "SHELIN_SANDBOX"},
		{"admin without password", func(c *config) { c.AdminLogin = "root" }, "SHELIN_ADMIN_PASSWORD"},
		{"short admin password", func(c *config) { c.AdminLogin, c.AdminPassword = "root", "short" }, "SHELIN_ADMIN_PASSWORD"},
		{"log format", func(c *config) { c.LogFormat = "xml" }, "SHELIN_LOG_FORMAT"},
	} {
		c := validConfig()
		tc.change(&c)
		err := c.check()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line naming %s", tc.name, err, tc.want)
		}
	}
}

// The sandbox is off unless said otherwise, and then needs no secret.
func TestSandboxIsOffByDefault(t *testing.T) {
	c := validConfig()
	c.SandboxSecret = ""
	if err := c.check(); err != nil || c.sandboxOn() {
		t.Fatalf("default: on=%v %v", c.sandboxOn(), err)
	}
	var d config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	d.register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SHELIN_SANDBOX") == "" && d.Sandbox != "off" {
		t.Fatalf("serve's default sandbox %q, want off", d.Sandbox)
	}
	if err := fs.Parse([]string{"--sandbox", "ON"}); err != nil {
		t.Fatal(err)
	}
	d.DatabaseURL, d.Addr, d.SecretKey, d.SandboxSecret, d.LogFormat = c.DatabaseURL, c.Addr, c.SecretKey, "s", "json"
	if err := d.check(); err != nil || !d.sandboxOn() {
		t.Fatalf("--sandbox ON: on=%v %v", d.sandboxOn(), err)
	}
}

func TestConfigDefaultsTheBaseURLFromTheAddress(t *testing.T) {
	c := validConfig()
	c.Addr = ":9090"
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "http://localhost:9090" {
		t.Fatalf("base URL %q", c.BaseURL)
	}
}

func TestSecretKeyIsHexOrAHashedPassphrase(t *testing.T) {
	c := validConfig()
	if k := c.secretKey(); len(k) != 32 || k[0] != 0xab {
		t.Fatalf("hex key decoded to %x", k)
	}
	c.SecretKey = "a long passphrase, not hex"
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if k := c.secretKey(); len(k) != 32 {
		t.Fatalf("passphrase key has %d bytes", len(k))
	}
}
