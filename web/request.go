package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/idem"
)

// bindJSON decodes the request body into v. Malformed JSON is a 400; a value
// of the wrong type (a JSON number for an amount, say) is a 422 naming the
// field at fault.
func bindJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.New("bad_request", "a JSON body is required")
	}
	if !json.Valid(body) {
		return apperr.New("bad_request", "the body is not valid JSON")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return apperr.Field(te.Field, "%s must be a %s, not a JSON %s", te.Field, kindName(te.Type), te.Value)
	}
	field := faultyField(body, reflect.TypeOf(v).Elem())
	if e, ok := apperr.As(err); ok {
		if e.Field == "" {
			return e.WithField(field)
		}
		return e
	}
	return apperr.Field(field, "invalid value: %v", err)
}

// faultyField finds the top-level key whose value alone fails to decode into
// a fresh value of typ, so that custom decoders (money amounts) still name
// their field. Nested faults are named by their top-level key and index.
func faultyField(body []byte, typ reflect.Type) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	for k, raw := range obj {
		probe := reflect.New(typ).Interface()
		one, _ := json.Marshal(map[string]json.RawMessage{k: raw})
		if json.Unmarshal(one, probe) != nil {
			var arr []json.RawMessage
			if json.Unmarshal(raw, &arr) == nil {
				for i := range arr {
					part, _ := json.Marshal(map[string][]json.RawMessage{k: {arr[i]}})
					if json.Unmarshal(part, reflect.New(typ).Interface()) != nil {
						if sub := nestedField(arr[i], typ, k); sub != "" {
							return k + "[" + strconv.Itoa(i) + "]." + sub
						}
						return k + "[" + strconv.Itoa(i) + "]"
					}
				}
			}
			return k
		}
	}
	return ""
}

func nestedField(raw json.RawMessage, typ reflect.Type, key string) string {
	f, ok := fieldByJSONName(typ, key)
	if !ok || f.Type.Kind() != reflect.Slice {
		return ""
	}
	elem := f.Type.Elem()
	if elem.Kind() != reflect.Struct {
		return ""
	}
	return faultyField(raw, elem)
}

func fieldByJSONName(typ reflect.Type, name string) (reflect.StructField, bool) {
	if typ.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "whole number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "list"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

// idempotent runs a write marked (I) in API.md exactly once per
// Idempotency-Key within the route's community: the first response is stored
// in the same transaction as the business change and replayed for repeats.
func (s *Server) idempotent(c *fiber.Ctx, step func(tx *sqlx.Tx) (int, any, error)) error {
	key := c.Get("Idempotency-Key")
	if err := idem.Validate(key); err != nil {
		return err
	}
	scope := "global"
	if com := community(c); com.ID != "" {
		scope = com.ID
	}
	hash := idem.Hash([]byte(c.Method()), []byte(c.Path()), c.Body())
	res, err := idem.Do(c.UserContext(), s.db, scope, strings.Clone(key), hash, func(tx *sqlx.Tx) (int, []byte, error) {
		st, v, err := step(tx)
		if err != nil {
			return 0, nil, err
		}
		b, err := json.Marshal(v)
		return st, b, err
	})
	if err != nil {
		return err
	}
	if res.Replay {
		c.Set("Idempotent-Replayed", "true")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(res.Status).Send(res.Body)
}

// page is the shape of every list: {"items":[…],"next_cursor":"…"|null}.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listParams reads ?limit= (default 50, max 500) and ?cursor= (opaque).
func listParams(c *fiber.Ctx) (limit int, cursor string, err error) {
	limit = 50
	if v := c.Query("limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 500 {
			return 0, "", apperr.Field("limit", "limit must be between 1 and 500")
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		b, derr := base64.RawURLEncoding.DecodeString(v)
		if derr != nil {
			return 0, "", apperr.Field("cursor", "cursor is not valid")
		}
		cursor = string(b)
	}
	return limit, cursor, nil
}

// newPage trims items fetched with limit+1 and makes the next cursor from the
// last kept item with key.
func newPage[T any](items []T, limit int, key func(T) string) page[T] {
	p := page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		cur := base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
		p.NextCursor = &cur
	}
	return p
}
