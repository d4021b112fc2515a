package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// page sends a form (or a GET when form is nil) as a signed-in user and
// returns the status, the Location header and the body.
func (e *env) page(method, path, token string, form url.Values) (int, string, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// The admin pages create and edit a product, and the evening count at a
// stall carries the rest back to the centre, once even if the form is sent
// twice.
func TestInventoryPages(t *testing.T) {
	e := newEnv(t)
	store, stall, tea := invSetup(e)
	admin, vol := e.Tokens["admin"], e.Tokens["volunteer"]
	base := "/admin/" + e.Com.ID
	st, loc, body := e.page("POST", base+"/products", admin, url.Values{"sku": {"MDS-6"}, "name": {"洛阳牡丹酥（6枚装）"},
		"group_name": {"洛阳牡丹酥"}, "price": {"38.00"}, "unit_cost": {"21.00"}, "track_stock": {"1"}, "perishable": {"1"}})
	if st != 303 || !strings.HasPrefix(loc, base+"/products/") {
		t.Fatalf("create: %d %q %s", st, loc, body)
	}
	// A bad price comes back with a message, in Chinese, and the typed values.
	st, _, body = e.page("POST", base+"/products", admin, url.Values{"sku": {"CUT"}, "name": {"剪纸"}, "price": {"12.505"}, "unit_cost": {"1"}})
	if st != 422 || !strings.Contains(body, `id="form-error"`) || !strings.Contains(body, `value="剪纸"`) {
		t.Fatalf("bad price: %d %s", st, body)
	}
	st, _, body = e.page("POST", loc, admin, url.Values{"name": {"洛阳牡丹酥（6枚装）"}, "group_name": {"洛阳牡丹酥"},
		"price": {"40.00"}, "unit_cost": {"21.00"}, "track_stock": {"1"}, "perishable": {"1"}, "active": {"1"}})
	if st != 303 {
		t.Fatalf("update: %d %s", st, body)
	}
	st, _, body = e.page("GET", loc, admin, nil)
	if st != 200 || !strings.Contains(body, "¥40.00") || !strings.Contains(body, "¥38.00") {
		t.Fatalf("product page must show the price history: %d", st)
	}
	if st, _, _ := e.page("GET", base+"/products", vol, nil); st != 403 {
		t.Fatalf("volunteer on the products page: %d", st)
	}
	for _, p := range []string{"/products", "/stock", "/stock/receive", "/stock/transfer", "/stock/count", "/stock/movements"} {
		if st, _, body := e.page("GET", base+p, admin, nil); st != 200 {
			t.Fatalf("GET %s: %d %s", p, st, body)
		}
	}
	// Stock for the stall, then the evening count: 7 of 10 left, carried back.
	e.page("POST", base+"/stock/receive", vol, url.Values{"idem": {"r1"}, "location_id": {store}, "product_id": {tea, ""}, "qty": {"10", ""}})
	e.page("POST", base+"/stock/transfer", vol, url.Values{"idem": {"t1"}, "from_location_id": {store}, "to_location_id": {stall}, "product_id": {tea}, "qty": {"10"}})
	count := url.Values{"idem": {"c1"}, "location_id": {stall}, "store_id": {store}, "product_id": {tea}, "counted": {"7"}, "return_to_store": {"1"}}
	for i := 0; i < 2; i++ {
		if st, _, body := e.page("POST", base+"/stock/count", vol, count); st != 303 {
			t.Fatalf("count %d: %d %s", i, st, body)
		}
	}
	if oh, _, _ := e.stockOf(tea, stall); oh != 0 {
		t.Fatalf("stall has %d after the evening return", oh)
	}
	if oh, _, _ := e.stockOf(tea, store); oh != 7 {
		t.Fatalf("centre has %d after the evening return, want 7", oh)
	}
	// A low-stock threshold set from the page shows in the low list.
	if st, _, body := e.page("POST", base+"/stock/threshold", admin, url.Values{"product_id": {tea}, "location_id": {store}, "low_threshold": {"8"}}); st != 303 {
		t.Fatalf("threshold: %d %s", st, body)
	}
	st, b := e.call("GET", e.c()+"/stock/low", vol, nil)
	if items, _ := b["items"].([]any); st != 200 || len(items) != 1 {
		t.Fatalf("low stock: %d %v", st, b)
	}
	st, _, body = e.page("GET", base+"/stock", admin, nil)
	if st != 200 || !strings.Contains(body, `id="low-stock"`) {
		t.Fatalf("stock page must show the low list: %d", st)
	}
	// Nothing expired: writing off expired lots changes nothing.
	if st, _, body := e.page("POST", base+"/stock/write-off-expired", vol, url.Values{"idem": {"w1"}, "location_id": {store}}); st != 303 {
		t.Fatalf("write off: %d %s", st, body)
	}
	if oh, _, _ := e.stockOf(tea, store); oh != 7 {
		t.Fatalf("centre has %d after writing off nothing", oh)
	}
}
