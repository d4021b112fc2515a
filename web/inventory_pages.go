package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/idem"
	"shelin/inventory"
)

// Helpers of the catalogue and stock pages (page_product*.go, page_stock*.go).

// invPath is the admin URL of the route's community: /admin/{cid}/...
func invPath(c *fiber.Ctx, rest string) string { return "/admin/" + community(c).ID + rest }

// formKey is a fresh idempotency key for a form, so that a double tap or a
// resubmitted page books stock once.
func formKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "form-" + hex.EncodeToString(b)
}

// formValues copies every value of a repeated form field.
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// formValue copies one form field, trimmed.
func formValue(c *fiber.Ctx, name string) string {
	return strings.Clone(strings.TrimSpace(c.FormValue(name)))
}

func at(vs []string, i int) string {
	if i < len(vs) {
		return strings.TrimSpace(vs[i])
	}
	return ""
}

// formLines reads the product_id/qty rows of a stock form, skipping blank
// rows, and builds one line per filled row with line(row, productID, qty).
// A form with no filled row is invalid.
func formLines[T any](c *fiber.Ctx, line func(row int, productID string, qty int) T) ([]T, error) {
	pids, qtys := formValues(c, "product_id"), formValues(c, "qty")
	var out []T
	for i := range pids {
		pid := at(pids, i)
		if pid == "" && at(qtys, i) == "" {
			continue
		}
		q, err := formQty(at(qtys, i), fmt.Sprintf("lines[%d].qty", len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, line(i, pid, q))
	}
	if len(out) == 0 {
		return nil, apperr.Field("lines", "choose at least one product and its quantity")
	}
	return out, nil
}

// formQty reads a quantity typed into a form; blank is 0.
func formQty(s, field string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apperr.Field(field, "%q is not a whole number", s)
	}
	return n, nil
}

// pageIdem runs a form's stock step once per form key (the hidden field
// "idem"); a repeat is a no-op.
func (s *Server) pageIdem(c *fiber.Ctx, step func(tx *sqlx.Tx) error) error {
	key := formValue(c, "idem")
	if key == "" {
		key = formKey()
	}
	hash := idem.Hash([]byte(c.Method()), []byte(c.Path()), c.Body())
	_, err := idem.Do(c.UserContext(), s.db, community(c).ID, key, hash, func(tx *sqlx.Tx) (int, []byte, error) {
		if err := step(tx); err != nil {
			return 0, nil, err
		}
		return fiber.StatusSeeOther, []byte("{}"), nil
	})
	return err
}

// pageError turns a domain error into a plain message for a form, in the
// visitor's language where we know the shape (stock shortages); it returns
// the HTTP status to answer with. Internal errors are not shown.
func (s *Server) pageError(c *fiber.Ctx, err error) (int, string, error) {
	var short *inventory.ShortError
	if errors.As(err, &short) {
		return fiber.StatusConflict, s.ui.t(lang(c), "inv.err.short", short.ProductName, short.Location, short.Available), nil
	}
	e, ok := apperr.As(err)
	if !ok {
		return 0, "", err
	}
	st := status[e.Code]
	if st == 0 || st >= 500 {
		return 0, "", err
	}
	msg := e.Message
	if e.Field != "" {
		msg = s.ui.t(lang(c), "inv.err.field", e.Field) + msg
	}
	return st, msg, nil
}

// invPageData is what every catalogue and stock page shows around its form.
type invPageData struct {
	Base      string // /admin/{cid}
	Community string
	Locations []inventory.Location
	Products  []inventory.Product
	Error     string
	Done      string
	Key       string
}

func (s *Server) invPage(c *fiber.Ctx, withProducts bool) (invPageData, error) {
	d := invPageData{Base: invPath(c, ""), Community: community(c).Name, Key: formKey(), Done: query(c, "done")}
	var err error
	if d.Locations, err = s.inv.Locations(c.UserContext(), s.db, community(c).ID); err != nil {
		return d, err
	}
	if withProducts {
		if d.Products, err = s.inv.Products(c.UserContext(), s.db, community(c).ID, true); err != nil {
			return d, err
		}
	}
	return d, nil
}
