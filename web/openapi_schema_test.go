package web_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"shelin/identity"
)

// apiDoc is the served OpenAPI document as plain JSON.
type apiDoc map[string]any

func (e *env) apiDoc() apiDoc {
	e.t.Helper()
	st, raw := e.raw("GET", "/api/v1/openapi.json", "", nil)
	if st != 200 {
		e.t.Fatalf("openapi.json: %d", st)
	}
	var d apiDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// responseSchema is the schema of path's method answering status.
func (d apiDoc) responseSchema(method, path string, status int) (map[string]any, error) {
	op := obj(obj(obj(d["paths"])[path])[strings.ToLower(method)])
	if op == nil {
		return nil, fmt.Errorf("%s %s is not in the document", method, path)
	}
	r := obj(obj(op["responses"])[strconv.Itoa(status)])
	if r == nil {
		r = obj(obj(op["responses"])["default"])
	}
	s := obj(obj(obj(r["content"])["application/json"])["schema"])
	if s == nil {
		return nil, fmt.Errorf("%s %s %d has no JSON schema", method, path, status)
	}
	return s, nil
}

// validate checks v against schema s (the OpenAPI 3.0 subset the
// generator writes) and returns every mismatch with its JSON path.
func (d apiDoc) validate(v any, s map[string]any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		target := obj(obj(obj(d["components"])["schemas"])[name])
		if target == nil {
			return []string{at + ": unresolved " + ref}
		}
		return d.validate(v, target, at)
	}
	if v == nil {
		if s["nullable"] == true || len(s) == 0 {
			return nil
		}
		return []string{at + ": null where the schema does not allow it"}
	}
	var errs []string
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, d.validate(v, obj(sub), at)...)
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range enum {
			found = found || x == v
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %T, want object", at, v))
		}
		props := obj(s["properties"])
		for _, r := range asList(s["required"]) {
			if _, ok := m[r]; !ok {
				errs = append(errs, at+": missing required "+r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps := obj(props[k]); ps != nil {
				errs = append(errs, d.validate(m[k], ps, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"]; ok {
				if ap == false {
					errs = append(errs, at+": property "+k+" is not in the schema")
				} else if aps := obj(ap); aps != nil {
					errs = append(errs, d.validate(m[k], aps, at+"."+k)...)
				}
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %T, want array", at, v))
		}
		for i, x := range a {
			errs = append(errs, d.validate(x, obj(s["items"]), fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %T %v, want string", at, v, v))
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, str, p))
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a date-time", at, str))
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			errs = append(errs, fmt.Sprintf("%s: %v, want integer", at, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, fmt.Sprintf("%s: %v, want number", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: %v, want boolean", at, v))
		}
	}
	return errs
}

func asList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// Real responses of the core flows (sign in, the catalogue, a shift, cash
// and QR sales, the receipt, errors) validate against the schemas the
// document publishes, so the document cannot drift from the handlers.
func TestOpenAPIResponsesMatchTheirSchemas(t *testing.T) {
	p := newPOSEnv(t, 10)
	doc := p.apiDoc()
	vol, admin := p.Tokens[identity.Volunteer], p.Tokens[identity.Admin]
	checked := 0
	check := func(method, path, docPath, token string, body any, wantStatus int, headers ...string) map[string]any {
		t.Helper()
		if body != nil && wantStatus < 300 {
			// The request we send is one the document describes.
			rs := obj(obj(obj(obj(obj(obj(obj(doc["paths"])[docPath])[strings.ToLower(method)])["requestBody"])["content"])["application/json"])["schema"])
			j, _ := json.Marshal(body)
			var v any
			json.Unmarshal(j, &v)
			if errs := doc.validate(v, rs, "request"); len(errs) > 0 || rs["$ref"] == nil {
				t.Errorf("%s %s: the request does not match its described body %v:\n  %s", method, docPath, rs, strings.Join(errs, "\n  "))
			}
		}
		st, raw := p.raw(method, path, token, body, headers...)
		if st != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, path, st, raw, wantStatus)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		s, err := doc.responseSchema(method, docPath, st)
		if err != nil {
			t.Fatal(err)
		}
		if errs := doc.validate(v, s, "$"); len(errs) > 0 {
			t.Errorf("%s %s (%d) does not match its schema:\n  %s", method, path, st, strings.Join(errs, "\n  "))
		}
		checked++
		m, _ := v.(map[string]any)
		return m
	}
	c, dc := p.c(), "/api/v1/communities/{cid}"
	check("POST", "/api/v1/sessions", "/api/v1/sessions", "", map[string]string{"login": p.Users[identity.Volunteer].Login, "password": testPassword}, 201)
	check("GET", "/healthz", "/healthz", "", nil, 200)
	check("GET", "/readyz", "/readyz", "", nil, 200)
	check("GET", "/api/v1/me", "/api/v1/me", vol, nil, 200)
	check("GET", c, dc, admin, nil, 200)
	check("GET", c+"/users", dc+"/users", admin, nil, 200)
	check("GET", c+"/products", dc+"/products", vol, nil, 200)
	check("GET", c+"/products/"+p.pastry, dc+"/products/{id}", vol, nil, 200)
	check("POST", c+"/products", dc+"/products", admin, map[string]any{"sku": "OA-1", "name": "牡丹书签", "price": "15.00", "unit_cost": "5.00"}, 201)
	check("GET", c+"/locations", dc+"/locations", vol, nil, 200)
	check("POST", c+"/locations", dc+"/locations", admin, map[string]any{"name": "邻里小站", "kind": "store"}, 201)
	check("POST", c+"/shifts", dc+"/shifts", vol, map[string]any{"location_id": p.stall, "opening_float": "100.00"}, 201)
	cash := check("POST", c+"/sales", dc+"/sales", vol, map[string]any{"location_id": p.stall,
		"lines": []map[string]any{{"product_id": p.pastry, "qty": 1}}, "payment": map[string]any{"method": "cash", "tendered": "50"}}, 201,
		"Idempotency-Key", "oa-cash")
	check("POST", c+"/sales", dc+"/sales", vol, map[string]any{"location_id": p.stall,
		"lines": []map[string]any{{"product_id": p.card, "qty": 2}}, "payment": map[string]any{"method": "qr", "provider": "sandbox"}}, 201,
		"Idempotency-Key", "oa-qr")
	check("GET", c+"/sales/"+cash["id"].(string), dc+"/sales/{id}", vol, nil, 200)
	check("GET", c+"/sales", dc+"/sales", vol, nil, 200)
	token := cash["receipt_url"].(string)
	token = token[strings.LastIndex(token, "/")+1:]
	check("GET", "/api/v1/receipts/"+token, "/api/v1/receipts/{token}", "", nil, 200)
	// Errors have the one error shape.
	check("GET", c+"/sales/00000000-0000-4000-8000-000000000000", dc+"/sales/{id}", vol, nil, 404)
	check("GET", "/api/v1/me", "/api/v1/me", "", nil, 401)
	check("POST", c+"/sales", dc+"/sales", vol, map[string]any{"lines": []any{}}, 422, "Idempotency-Key", "oa-bad")
	check("POST", c+"/locations", dc+"/locations", vol, map[string]any{"name": "x", "kind": "store"}, 403)
	// Every other GET of the community that needs no other id, as an
	// admin: whatever it answers matches the schema of that status.
	for path, item := range obj(doc["paths"]) {
		op := obj(obj(item)["get"])
		if op == nil || !strings.HasPrefix(path, dc) || strings.Count(path, "{") != 1 {
			continue
		}
		st, raw := p.raw("GET", strings.Replace(path, "{cid}", p.Com.ID, 1), admin, nil)
		s, err := doc.responseSchema("GET", path, st)
		if err != nil {
			continue // not JSON (CSV, images) or not described
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Errorf("GET %s: %d, not JSON: %.200s", path, st, raw)
			continue
		}
		if errs := doc.validate(v, s, "$"); len(errs) > 0 {
			t.Errorf("GET %s (%d) does not match its schema:\n  %s", path, st, strings.Join(errs, "\n  "))
		}
		checked++
	}
	t.Logf("%d responses validated", checked)
}

// Every API operation has an operationId, its success response, the error
// shape for failures, and a request body for writes; the sign-in body is
// described (a newcomer needs nothing else to sign in).
func TestOpenAPIDescribesBodiesAndErrors(t *testing.T) {
	e := newEnv(t)
	doc := e.apiDoc()
	ids := map[string]string{}
	typed, total := 0, 0
	for path, item := range obj(doc["paths"]) {
		for method, o := range obj(item) {
			op := obj(o)
			total++
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] != "" {
				t.Errorf("%s %s: operationId %q missing or also used by %s", method, path, id, ids[id])
			}
			ids[id] = method + " " + path
			rs := obj(op["responses"])
			if obj(rs["default"]) == nil {
				t.Errorf("%s %s: no error response", method, path)
			}
			for code, r := range rs {
				if code[0] == '2' && obj(obj(r)["content"]) != nil {
					typed++
				}
			}
			if (method == "post" || method == "put" || method == "patch") && obj(op["requestBody"]) == nil {
				t.Errorf("%s %s: no request body", method, path)
			}
		}
	}
	signIn := obj(obj(obj(obj(obj(obj(obj(doc["paths"])["/api/v1/sessions"])["post"])["requestBody"])["content"])["application/json"])["schema"])
	if ref, _ := signIn["$ref"].(string); ref == "" {
		t.Fatalf("the sign-in body is not described: %v", signIn)
	} else {
		props := obj(obj(obj(obj(doc["components"])["schemas"])[strings.TrimPrefix(ref, "#/components/schemas/")])["properties"])
		if props["login"] == nil || props["password"] == nil {
			t.Fatalf("sign-in schema %v", props)
		}
	}
	t.Logf("%d of %d operations have a described success body", typed, total)
}
