package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
	"shelin/internal/money"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages: Simplified Chinese is the default, English a switch away.
const (
	langZH = "zh"
	langEN = "en"
)

type asset struct {
	hash, ctype string
	body        []byte
}

// ui holds the parsed templates, the content-hashed static files and the
// message catalogue.
type ui struct {
	pages  map[string]*template.Template
	assets map[string]asset
	msgs   map[string]map[string]string
}

func newUI() (*ui, error) {
	u := &ui{pages: map[string]*template.Template{}, assets: map[string]asset{}, msgs: map[string]map[string]string{}}
	for _, lang := range []string{langZH, langEN} {
		b, err := i18nFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
		}
		u.msgs[lang] = m
	}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		u.assets[strings.TrimPrefix(p, "static/")] = asset{hash: hex.EncodeToString(h[:])[:12], ctype: ct, body: b}
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"t":     u.t,
		"asset": u.assetURL,
		"yuan":  func(a money.Amount) string { return a.Yuan() },
		"date":  formatDate,
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v)
			return template.JS(b), err
		},
		"hasRole": func(u *identity.User, roles ...string) bool {
			if u == nil {
				return false
			}
			for _, r := range roles {
				if string(u.Role) == r {
					return true
				}
			}
			return u.Role == identity.PlatformAdmin
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			partials = append(partials, n)
		}
	}
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, append(partials, n)...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		u.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return u, nil
}

// t looks a message up in the catalogue; English falls back to Chinese, and
// a missing key shows itself so that it is noticed.
func (u *ui) t(lang, key string, args ...any) string {
	m, ok := u.msgs[lang][key]
	if !ok {
		if m, ok = u.msgs[langZH][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// messageOr returns the catalogue's message for key, or fallback when the
// catalogue has none (a domain error's own message, say).
func (u *ui) messageOr(lang, key, fallback string) string {
	if m, ok := u.msgs[lang][key]; ok {
		return m
	}
	return fallback
}

// assetURL returns the content-hashed URL of a static file.
func (u *ui) assetURL(name string) string {
	a, ok := u.assets[name]
	if !ok {
		panic("web: no static file " + name)
	}
	return "/static/" + a.hash + "/" + name
}

var weekdaysZH = []string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// formatDate shows a date as people read it: 11月30日 周一 (zh), Mon 30 Nov (en).
func formatDate(lang string, t time.Time) string {
	if lang == langEN {
		return t.Format("Mon 2 Jan")
	}
	return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), weekdaysZH[t.Weekday()])
}

// view is what every page template receives.
type view struct {
	Lang  string
	Title string
	User  *identity.User
	CSRF  string
	Path  string
	Data  any
}

// lang is the request's language: the remembered switch, else Chinese.
func lang(c *fiber.Ctx) string {
	if c.Cookies("lang") == langEN {
		return langEN
	}
	return langZH
}

// render writes a page with the base layout.
func (s *Server) render(c *fiber.Ctx, name, titleKey string, data any) error {
	t, ok := s.ui.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	v := view{Lang: lang(c), Data: data, Path: c.Path()}
	v.Title = s.ui.t(v.Lang, titleKey)
	if sess, ok := session(c); ok {
		u := sess.User
		v.User, v.CSRF = &u, sess.CSRFToken
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name+".html", v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// renderStatus shows an error page in the visitor's language.
func (s *Server) renderStatus(c *fiber.Ctx, st int, msg string) error {
	c.Status(st)
	return s.render(c, "status", "status.title", fiber.Map{"Status": st, "Message": msg})
}

// static serves embedded files at content-hashed, immutable URLs.
func (s *Server) static(c *fiber.Ctx) error {
	a, ok := s.ui.assets[c.Params("*")]
	if !ok || a.hash != c.Params("hash") {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(a.body)
}
