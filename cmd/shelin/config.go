package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"shelin/web"
)

// config holds every setting; each comes from an environment variable and a
// flag of the same meaning (the flag wins).
type config struct {
	DatabaseURL   string
	Addr          string
	BaseURL       string
	AdminLogin    string
	AdminPassword string
	SecretKey     string
	SandboxSecret string
	WeChatPayHost string // SHELIN_WECHATPAY_HOST
	AlipayGateway string // SHELIN_ALIPAY_GATEWAY
	Sandbox       string // "on" or "off": the simulated payment provider
	LogFormat     string
	Migrate       bool
	// TrustedProxies: reverse proxies whose X-Forwarded-For names the client.
	TrustedProxies string
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

// register adds the flags to fs with defaults from the environment. The
// sandbox (simulated payments) is off unless SHELIN_SANDBOX or --sandbox
// says on; `shelin dev` turns it on.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", envOr("DATABASE_URL", ""), "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", envOr("SHELIN_ADDR", ":8080"), "listen address (env SHELIN_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", envOr("SHELIN_BASE_URL", ""), "public URL used in links and QR codes, e.g. https://shelin.example.cn (env SHELIN_BASE_URL; default http://localhost<addr>)")
	fs.StringVar(&c.AdminLogin, "admin-login", envOr("SHELIN_ADMIN_LOGIN", ""), "bootstrap platform admin login, created on first start (env SHELIN_ADMIN_LOGIN)")
	fs.StringVar(&c.AdminPassword, "admin-password", envOr("SHELIN_ADMIN_PASSWORD", ""), "bootstrap platform admin password, 8+ characters (env SHELIN_ADMIN_PASSWORD)")
	fs.StringVar(&c.SecretKey, "secret-key", envOr("SHELIN_SECRET_KEY", ""), "64 hex characters (or a passphrase of 16+): encrypts stored secrets, signs cookies (env SHELIN_SECRET_KEY)")
	fs.StringVar(&c.SandboxSecret, "sandbox-secret", envOr("SHELIN_SANDBOX_SECRET", ""), "HMAC key of the sandbox payment provider (env SHELIN_SANDBOX_SECRET)")
	fs.StringVar(&c.Sandbox, "sandbox", envOr("SHELIN_SANDBOX", "off"), "on or off: the simulated payment provider, its wallet page /pay/… and its webhook; never on where real money is taken (env SHELIN_SANDBOX)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("SHELIN_LOG_FORMAT", "json"), "log format: json or text (env SHELIN_LOG_FORMAT)")
	fs.StringVar(&c.WeChatPayHost, "wechatpay-host", envOr("SHELIN_WECHATPAY_HOST", ""), "WeChat Pay API host, e.g. an egress proxy (env SHELIN_WECHATPAY_HOST; default https://api.mch.weixin.qq.com)")
	fs.StringVar(&c.AlipayGateway, "alipay-gateway", envOr("SHELIN_ALIPAY_GATEWAY", ""), "Alipay gateway URL (env SHELIN_ALIPAY_GATEWAY; default Alipay's production or sandbox gateway, as each app is set up)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", envOr("SHELIN_TRUSTED_PROXIES", ""), "reverse proxies whose X-Forwarded-For names the client, CIDRs separated by commas, e.g. 10.0.0.0/8 (env SHELIN_TRUSTED_PROXIES; default none: the header is ignored)")
}

// check validates the configuration and says in one line what is wrong.
func (c *config) check() error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set (e.g. postgres://user@host:5432/shelin?sslmode=disable)")
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("DATABASE_URL must be a postgres:// URL")
	}
	if err := checkAddr(c.Addr); err != nil {
		return err
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("SHELIN_BASE_URL %q must be an http(s) URL", c.BaseURL)
	}
	if (c.AdminLogin == "") != (c.AdminPassword == "") {
		return errors.New("set both SHELIN_ADMIN_LOGIN and SHELIN_ADMIN_PASSWORD, or neither")
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		return errors.New("SHELIN_ADMIN_PASSWORD must be at least 8 characters")
	}
	if c.SecretKey == "" {
		return errors.New("SHELIN_SECRET_KEY is not set: 64 hex characters (openssl rand -hex 32) or a passphrase of 16+ characters")
	}
	if len(c.SecretKey) < 16 {
		return errors.New("SHELIN_SECRET_KEY must be at least 16 characters; best 64 hex characters (openssl rand -hex 32)")
	}
	switch strings.ToLower(strings.TrimSpace(c.Sandbox)) {
	case "on":
		c.Sandbox = "on"
	case "off", "":
		c.Sandbox = "off"
	default:
		return fmt.Errorf("SHELIN_SANDBOX %q must be on or off", c.Sandbox)
	}
	if c.sandboxOn() && c.SandboxSecret == "" {
		return errors.New("SHELIN_SANDBOX_SECRET is not set (the HMAC key of the sandbox payment provider, needed with SHELIN_SANDBOX=on)")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return errors.New("SHELIN_LOG_FORMAT must be json or text")
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	return nil
}

// sandboxOn says whether the simulated payment provider is on.
func (c *config) sandboxOn() bool { return c.Sandbox == "on" }

// checkAddr accepts host:port with a port from 1 to 65535 (host optional).
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.ContainsAny(host, " /") {
		return fmt.Errorf("SHELIN_ADDR %q must look like :8080 or 127.0.0.1:8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("SHELIN_ADDR %q: the port must be a number from 1 to 65535", addr)
	}
	return nil
}

// secretKey is the 32-byte key: SHELIN_SECRET_KEY itself when it is 64 hex
// characters, else the SHA-256 of the passphrase.
func (c *config) secretKey() []byte {
	if b, err := hex.DecodeString(c.SecretKey); err == nil && len(b) == 32 {
		return b
	}
	h := sha256.Sum256([]byte(c.SecretKey))
	return h[:]
}
