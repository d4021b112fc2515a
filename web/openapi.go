package web

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"shelin/internal/money"
)

var pathParam = regexp.MustCompile(`:([a-zA-Z_]+)`)

// openAPIPath turns a Fiber path (/x/:id) into an OpenAPI one (/x/{id}).
func openAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// openAPIDoc builds the OpenAPI 3 document from the route table, so that it
// names exactly the routes that exist; request and response bodies come
// from the Go types in apiTypes (openapi_types.go) by reflection.
func (s *Server) openAPIDoc() fiber.Map {
	g := &schemaGen{components: fiber.Map{}}
	g.components["Error"] = fiber.Map{
		"type": "object", "required": []string{"error"}, "additionalProperties": false,
		"properties": fiber.Map{"error": fiber.Map{
			"type": "object", "required": []string{"code", "message"}, "additionalProperties": false,
			"properties": fiber.Map{
				"code": fiber.Map{"type": "string", "enum": []string{"invalid", "not_found", "conflict", "forbidden", "unauthorized",
					"insufficient_stock", "idempotency_conflict", "day_closed", "rate_limited", "internal", "bad_request", "method_not_allowed"}},
				"message": fiber.Map{"type": "string"},
				"field":   fiber.Map{"type": "string", "description": "the request field at fault, e.g. lines[0].qty"},
			},
		}},
	}
	errResp := func(desc string) fiber.Map {
		return fiber.Map{"description": desc, "content": fiber.Map{"application/json": fiber.Map{"schema": fiber.Map{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := fiber.Map{}
	for _, r := range s.routes() {
		if r.Page {
			continue
		}
		p := openAPIPath(r.Path)
		item, _ := paths[p].(fiber.Map)
		if item == nil {
			item = fiber.Map{}
			paths[p] = item
		}
		key := r.Method + " " + r.Path
		t, typed := apiTypes[key]
		op := fiber.Map{"summary": r.Summary, "operationId": operationID(r)}
		var params []fiber.Map
		for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, fiber.Map{"name": m[1], "in": "path", "required": true, "schema": fiber.Map{"type": "string"}})
		}
		for _, q := range t.Query {
			params = append(params, fiber.Map{"name": q, "in": "query", "required": false, "schema": fiber.Map{"type": "string"}})
		}
		if t.Idem || strings.Contains(r.Summary, "Idempotency-Key") {
			params = append(params, fiber.Map{"name": "Idempotency-Key", "in": "header", "required": true,
				"description": "a key of the client's choosing; a repeat with the same key and body answers the first response",
				"schema":      fiber.Map{"type": "string", "minLength": 1, "maxLength": 255}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			body := fiber.Map{"type": "object"}
			if t.In != nil {
				g.request = true
				body = g.schema(reflect.TypeOf(t.In))
				g.request = false
			}
			ct := "application/json"
			if t.Multipart {
				ct = "multipart/form-data"
			}
			op["requestBody"] = fiber.Map{"required": t.In != nil, "content": fiber.Map{ct: fiber.Map{"schema": body}}}
		}
		status := t.Status
		if status == 0 {
			status = http.StatusOK
			if r.Method == http.MethodPost {
				status = http.StatusCreated
			}
		}
		ok := fiber.Map{"description": http.StatusText(status)}
		switch {
		case t.Out != nil:
			ok["content"] = fiber.Map{"application/json": fiber.Map{"schema": g.schema(reflect.TypeOf(t.Out))}}
		case t.ContentType != "":
			ok["content"] = fiber.Map{t.ContentType: fiber.Map{}}
		case !typed:
			ok["description"] = http.StatusText(status) + " (body not yet described here: see API.md)"
		}
		responses := fiber.Map{strconv.Itoa(status): ok, "default": errResp("an error")}
		if r.Method != http.MethodGet {
			responses["422"] = errResp("invalid input; error.field names the field")
		}
		responses["404"] = errResp("not found (also: another community's resource)")
		if r.Allow == nil {
			op["security"] = []fiber.Map{}
		} else {
			roles := []string{"platform_admin"}
			for _, a := range r.Allow {
				roles = append(roles, string(a))
			}
			op["x-roles"] = roles
			responses["401"] = errResp("not signed in")
			responses["403"] = errResp("signed in with a role that may not do this")
		}
		op["responses"] = responses
		item[strings.ToLower(r.Method)] = op
	}
	return fiber.Map{
		"openapi": "3.0.3",
		"info": fiber.Map{"title": "Shelin API", "version": "1",
			"description": "Money is a string with two decimals (\"12.50\"); errors are {\"error\":{\"code\",\"message\",\"field\"}}; writes a flaky network can repeat take an Idempotency-Key header."},
		"components": fiber.Map{
			"securitySchemes": fiber.Map{"bearer": fiber.Map{"type": "http", "scheme": "bearer"}},
			"schemas":         g.components,
		},
		"security": []fiber.Map{{"bearer": []string{}}},
		"paths":    paths,
	}
}

// operationID is a stable name for generated clients: method and path.
func operationID(r route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	for _, part := range strings.Split(strings.TrimPrefix(r.Path, "/api/v1"), "/") {
		part = strings.TrimPrefix(part, ":")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaGen turns Go types into JSON schemas (OpenAPI 3.0 dialect) the way
// encoding/json writes them; named structs become shared components.
//
// Response schemas list every field encoding/json always writes as required
// and refuse unknown properties. Request schemas do neither: handlers ignore
// unknown fields and check what is required themselves (an error names the
// field). Request components are named …Request or …Input, so a type used
// on both sides gets one component per side.
type schemaGen struct {
	components fiber.Map
	request    bool
}

var (
	amountType  = reflect.TypeOf(money.Amount{})
	decimalType = reflect.TypeOf(decimal.Decimal{})
	timeType    = reflect.TypeOf(time.Time{})
	mapType     = reflect.TypeOf(fiber.Map{})
)

func (g *schemaGen) schema(t reflect.Type) fiber.Map {
	switch t {
	case amountType:
		if g.request {
			return fiber.Map{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]{1,2})?$`, "example": "12.50", "description": "CNY as a string, at most two decimals (a JSON number is refused)"}
		}
		return fiber.Map{"type": "string", "pattern": `^-?[0-9]+\.[0-9]{2}$`, "example": "12.50", "description": "CNY, two decimals"}
	case decimalType:
		return fiber.Map{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?$`}
	case timeType:
		return fiber.Map{"type": "string", "format": "date-time"}
	case mapType:
		return fiber.Map{"type": "object"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := fiber.Map{}
		for k, v := range g.schema(t.Elem()) {
			s[k] = v
		}
		if ref, ok := s["$ref"]; ok {
			return fiber.Map{"allOf": []fiber.Map{{"$ref": ref}}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.String:
		return fiber.Map{"type": "string"}
	case reflect.Bool:
		return fiber.Map{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fiber.Map{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return fiber.Map{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return fiber.Map{"type": "string", "format": "byte"}
		}
		return fiber.Map{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return fiber.Map{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return fiber.Map{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := componentName(t)
		if g.request && !strings.HasSuffix(name, "Request") && !strings.HasSuffix(name, "Input") {
			name += "Input"
		}
		if _, ok := g.components[name]; !ok {
			g.components[name] = fiber.Map{} // placeholder against recursion
			g.components[name] = g.object(t)
		}
		return fiber.Map{"$ref": "#/components/schemas/" + name}
	}
	return fiber.Map{}
}

// object describes a struct as encoding/json writes it: exported fields by
// their json names, embedded structs flattened, omitempty fields optional.
func (g *schemaGen) object(t reflect.Type) fiber.Map {
	props := fiber.Map{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.schema(f.Type)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	if g.request {
		return fiber.Map{"type": "object", "properties": props}
	}
	s := fiber.Map{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		s["required"] = required
	}
	return s
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// componentName is a type's schema name: page[shelin/web.productJSON] →
// page_productJSON; page[shelin/fund.Account] → page_fund_Account;
// inventory.Location → inventory_Location.
func componentName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		args := strings.Split(strings.TrimSuffix(name[i+1:], "]"), ",")
		for j, a := range args {
			// shelin/fund.Account → fund_Account; shelin/web.saleJSON → saleJSON
			pkg, typ, ok := strings.Cut(a[strings.LastIndex(a, "/")+1:], ".")
			if !ok || pkg == "web" {
				typ = a[strings.LastIndexAny(a, "./")+1:]
			} else {
				typ = pkg + "_" + typ
			}
			args[j] = typ
		}
		name = name[:i] + "_" + strings.Join(args, "_")
	}
	pkg := t.PkgPath()
	if pkg != "" && !strings.HasSuffix(pkg, "/web") {
		name = pkg[strings.LastIndex(pkg, "/")+1:] + "_" + name
	}
	return nonWord.ReplaceAllString(name, "_")
}

// openapi serves the API description.
func (s *Server) openapi(c *fiber.Ctx) error { return c.JSON(s.openAPIDoc()) }
