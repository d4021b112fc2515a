package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"
)

// invSetup creates a store, a stall and a product through the API.
func invSetup(e *env) (store, stall, productID string) {
	e.t.Helper()
	admin := e.Tokens["admin"]
	mk := func(path string, body any) string {
		st, b := e.call("POST", e.c()+path, admin, body)
		if st != 201 {
			e.t.Fatalf("POST %s: %d %v", path, st, b)
		}
		return b["id"].(string)
	}
	store = mk("/locations", map[string]string{"name": "邻里中心", "kind": "store"})
	stall = mk("/locations", map[string]string{"name": "牡丹公园摊位", "kind": "stall"})
	productID = mk("/products", map[string]any{"sku": "TEA-1", "name": "牡丹花茶", "price": "28.00", "unit_cost": "12.50"})
	return
}

func (e *env) stockOf(productID, locationID string) (onHand, reserved, available int) {
	e.t.Helper()
	st, b := e.call("GET", e.c()+"/stock?location_id="+locationID, e.Tokens["volunteer"], nil)
	if st != 200 {
		e.t.Fatalf("stock: %d %v", st, b)
	}
	for _, it := range b["items"].([]any) {
		m := it.(map[string]any)
		if m["product_id"] == productID {
			return int(m["on_hand"].(float64)), int(m["reserved"].(float64)), int(m["available"].(float64))
		}
	}
	return 0, 0, 0
}

// A receipt or transfer replayed with the same Idempotency-Key changes stock
// once and answers the same; the same key with another body is a conflict.
func TestStockWritesAreIdempotent(t *testing.T) {
	e := newEnv(t)
	store, stall, p := invSetup(e)
	vol := e.Tokens["volunteer"]
	receipt := map[string]any{"location_id": store, "lines": []map[string]any{{"product_id": p, "qty": 20}}}
	var first []byte
	for i := 0; i < 3; i++ {
		st, b := e.raw("POST", e.c()+"/stock/receipts", vol, receipt, "Idempotency-Key", "rcpt-1")
		if st != 201 {
			t.Fatalf("receipt attempt %d: %d %s", i, st, b)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("replay answered %s, first answer was %s", b, first)
		}
	}
	transfer := map[string]any{"from_location_id": store, "to_location_id": stall, "lines": []map[string]any{{"product_id": p, "qty": 8}}}
	for i := 0; i < 2; i++ {
		if st, b := e.call("POST", e.c()+"/stock/transfers", vol, transfer, "Idempotency-Key", "move-1"); st != 201 {
			t.Fatalf("transfer: %d %v", st, b)
		}
	}
	if oh, _, _ := e.stockOf(p, store); oh != 12 {
		t.Fatalf("store has %d, want 12 (20 received once, 8 moved once)", oh)
	}
	if oh, _, _ := e.stockOf(p, stall); oh != 8 {
		t.Fatalf("stall has %d, want 8", oh)
	}
	transfer["lines"] = []map[string]any{{"product_id": p, "qty": 1}}
	st, b := e.call("POST", e.c()+"/stock/transfers", vol, transfer, "Idempotency-Key", "move-1")
	if st != 409 || errorOf(b)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other body: %d %v", st, b)
	}
	st, b = e.call("POST", e.c()+"/stock/transfers", vol, transfer)
	if st != 422 || errorOf(b)["field"] != "Idempotency-Key" {
		t.Fatalf("no key: %d %v", st, b)
	}
	// Moving more than is there: 409 insufficient_stock, nothing changes.
	transfer["lines"] = []map[string]any{{"product_id": p, "qty": 13}}
	st, b = e.call("POST", e.c()+"/stock/transfers", vol, transfer, "Idempotency-Key", "move-2")
	if st != 409 || errorOf(b)["code"] != "insufficient_stock" || errorOf(b)["field"] != "lines[0].qty" {
		t.Fatalf("too much: %d %v", st, b)
	}
	if oh, _, _ := e.stockOf(p, store); oh != 12 {
		t.Fatalf("store has %d after a refused transfer, want 12", oh)
	}
	// The movements list pages through the log.
	st, b = e.call("GET", e.c()+"/stock/movements?limit=2&product_id="+p, vol, nil)
	if st != 200 || len(b["items"].([]any)) != 2 || b["next_cursor"] == nil {
		t.Fatalf("movements page 1: %d %v", st, b)
	}
	st, b = e.call("GET", e.c()+"/stock/movements?limit=2&product_id="+p+"&cursor="+b["next_cursor"].(string), vol, nil)
	if st != 200 || len(b["items"].([]any)) != 1 || b["next_cursor"] != nil {
		t.Fatalf("movements page 2: %d %v", st, b)
	}
	// The evening flow: count the stall (7 left, 1 lost) and carry them back.
	st, b = e.call("POST", e.c()+"/stock/stall-returns", vol, map[string]any{"stall_id": stall, "store_id": store,
		"lines": []map[string]any{{"product_id": p, "counted": 7}}}, "Idempotency-Key", "evening-1")
	if st != 201 {
		t.Fatalf("stall return: %d %v", st, b)
	}
	if oh, _, _ := e.stockOf(p, store); oh != 19 {
		t.Fatalf("store has %d after the evening return, want 19", oh)
	}
}

// Bad input is 422 (or 404) with the field at fault, and changes nothing.
func TestStockBadInput(t *testing.T) {
	e := newEnv(t)
	store, _, p := invSetup(e)
	admin, vol := e.Tokens["admin"], e.Tokens["volunteer"]
	other := newEnv(t)
	_, _, foreign := invSetup(other)
	perishable := func() string {
		st, b := e.call("POST", e.c()+"/products", admin, map[string]any{"sku": "MDS-6", "name": "洛阳牡丹酥（6枚装）", "price": "38", "unit_cost": "20", "perishable": true})
		if st != 201 {
			t.Fatalf("perishable: %d %v", st, b)
		}
		return b["id"].(string)
	}()
	yesterday := time.Now().Add(-48 * time.Hour).Format(time.DateOnly)
	line := func(l map[string]any) string {
		return fmt.Sprintf(`{"location_id":%q,"lines":[%s]}`, store, invJSON(l))
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"zero qty", "POST", "/stock/receipts", line(map[string]any{"product_id": p, "qty": 0}), 422, "lines[0].qty"},
		{"negative qty", "POST", "/stock/receipts", line(map[string]any{"product_id": p, "qty": -2}), 422, "lines[0].qty"},
		{"qty as a string", "POST", "/stock/receipts", line(map[string]any{"product_id": p, "qty": "2"}), 422, ""}, // bindJSON names it lines.qty
		{"unknown product", "POST", "/stock/receipts", line(map[string]any{"product_id": "00000000-0000-4000-8000-000000000000", "qty": 1}), 404, "lines[0].product_id"},
		{"other community's product", "POST", "/stock/receipts", line(map[string]any{"product_id": foreign, "qty": 1}), 404, "lines[0].product_id"},
		{"best-before in the past", "POST", "/stock/receipts", line(map[string]any{"product_id": perishable, "qty": 1, "best_before": yesterday}), 422, "lines[0].best_before"},
		{"price with three decimals", "POST", "/products", `{"sku":"X1","name":"剪纸","price":"12.505","unit_cost":"1.00"}`, 422, "price"},
		{"price as a JSON number", "POST", "/products", `{"sku":"X2","name":"剪纸","price":12.5,"unit_cost":"1.00"}`, 422, "price"},
		{"negative cost", "POST", "/products", `{"sku":"X3","name":"剪纸","price":"12","unit_cost":"-1"}`, 422, "unit_cost"},
		{"patch price as a number", "PATCH", "/products/" + p, `{"price":30}`, 422, "price"},
		{"patch other community's product", "PATCH", "/products/" + foreign, `{"price":"30"}`, 404, ""},
		{"bad location kind", "POST", "/locations", `{"name":"仓库","kind":"warehouse"}`, 422, "kind"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := vol
			if c.path == "/products" || c.path == "/locations" || c.method == "PATCH" {
				tok = admin
			}
			st, b := e.call(c.method, e.c()+c.path, tok, c.body, "Idempotency-Key", fmt.Sprintf("bad-%d", i))
			if st != c.status || (c.field != "" && errorOf(b)["field"] != c.field) {
				t.Fatalf("%d %v; want %d with field %q", st, b, c.status, c.field)
			}
		})
	}
	st, b := e.call("GET", e.c()+"/stock/movements", vol, nil)
	if st != 200 || len(b["items"].([]any)) != 0 {
		t.Fatalf("movements after bad input: %d %v", st, b)
	}
	st, b = e.call("GET", e.c()+"/products/"+p, vol, nil)
	if st != 200 || b["price"] != "28.00" || b["unit_cost"] != "12.50" {
		t.Fatalf("product after bad patches: %d %v", st, b)
	}
	// Another community's product is 404 to read too.
	if st, _ := e.call("GET", e.c()+"/products/"+foreign, vol, nil); st != 404 {
		t.Fatalf("other community's product: %d", st)
	}
	// Volunteers may not create products.
	if st, _ := e.call("POST", e.c()+"/products", vol, map[string]any{"sku": "V", "name": "x", "price": "1", "unit_cost": "1"}); st != 403 {
		t.Fatalf("volunteer creating a product: %d", st)
	}
}

func invJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A picture uploaded for a product is served by content hash.
func TestProductImageUpload(t *testing.T) {
	e := newEnv(t)
	_, _, p := invSetup(e)
	m := image.NewNRGBA(image.Rect(0, 0, 1000, 500))
	for i := range m.Pix {
		m.Pix[i] = 0xff
	}
	m.Set(1, 1, color.NRGBA{R: 200, A: 255})
	var img bytes.Buffer
	png.Encode(&img, m)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("image", "peony.png")
	fw.Write(img.Bytes())
	w.Close()
	req, _ := http.NewRequest("PUT", e.URL+e.c()+"/products/"+p+"/image", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.Tokens["admin"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	st, b := e.call("GET", e.c()+"/products/"+p, e.Tokens["volunteer"], nil)
	url, _ := b["image_url"].(string)
	if st != 200 || url == "" {
		t.Fatalf("product: %d %v", st, b)
	}
	res, err = http.Get(e.URL + url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	cfg, format, err := image.DecodeConfig(res.Body)
	if err != nil || format != "jpeg" || cfg.Width != 800 || cfg.Height != 400 {
		t.Fatalf("served image: %v %s %dx%d; want an 800x400 JPEG", err, format, cfg.Width, cfg.Height)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Fatalf("Cache-Control %q", cc)
	}
}
