package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Screenshots of the admin's products and stock pages at laptop size, with a
// perishable product in two lots and a consigned painting.
func TestInventoryScreenshots(t *testing.T) {
	e := newEnv(t)
	store, stall, tea := invSetup(e)
	admin := e.Tokens["admin"]
	st, b := e.call("POST", e.c()+"/products", admin, map[string]any{"sku": "MDS-6", "name": "洛阳牡丹酥（6枚装）", "group_name": "洛阳牡丹酥",
		"price": "38.00", "unit_cost": "21.00", "perishable": true})
	if st != 201 {
		t.Fatalf("%d %v", st, b)
	}
	pastry := b["id"].(string)
	if st, b := e.call("POST", e.c()+"/products", admin, map[string]any{"sku": "ART-1", "name": "牡丹国画小品", "price": "188.00",
		"unit_cost": "0", "maker_name": "林秋月", "maker_share_percent": "60"}); st != 201 {
		t.Fatalf("%d %v", st, b)
	}
	e.call("POST", e.c()+"/stock/receipts", admin, map[string]any{"location_id": store, "lines": []map[string]any{
		{"product_id": pastry, "qty": 24, "lot_code": "A1", "best_before": "2099-01-01"},
		{"product_id": pastry, "qty": 12, "lot_code": "A2", "best_before": "2099-02-01"},
		{"product_id": tea, "qty": 30}}}, "Idempotency-Key", "shot-1")
	e.call("POST", e.c()+"/stock/transfers", admin, map[string]any{"from_location_id": store, "to_location_id": stall, "lines": []map[string]any{
		{"product_id": pastry, "qty": 20}, {"product_id": tea, "qty": 4}}}, "Idempotency-Key", "shot-2")
	e.call("PUT", e.c()+"/stock/thresholds", admin, map[string]any{"product_id": tea, "location_id": stall, "low_threshold": 5})

	ctx := browser(t)
	base := e.URL + "/admin/" + e.Com.ID
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login", e.Users["admin"].Login),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#home-links"),
		chromedp.Navigate(base+"/products"),
		chromedp.WaitVisible("#products"),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "inventory-products-1440x900")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/stock"), chromedp.WaitVisible("#low-stock")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "inventory-stock-admin-1440x900")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/stock/count?location_id="+stall), chromedp.WaitVisible("#count-form")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "inventory-count-stall-1440x900")
}
