package web_test

import (
	"bytes"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"

	"shelin/identity"
)

// The community's fixed 收款码: a static-QR sale is refused until an admin
// uploads it, then the volunteer confirms the money arrived (twice: once).
// A sale the tourist walks away from is cancelled and its stock comes back.
func TestStaticQRAndCancelOverHTTP(t *testing.T) {
	p := newPOSEnv(t, 5)
	vol := p.Tokens[identity.Volunteer]
	body := map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 1}},
		"payment": map[string]any{"method": "qr", "provider": "static"}}
	if st, b := p.sale("static-0", body); st != 409 || errorOf(b)["message"] == "" {
		t.Fatalf("static QR before upload: %d %v", st, b)
	}
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 16, 16)))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("image", "qr.png")
	fw.Write(img.Bytes())
	mw.Close()
	req, _ := http.NewRequest("PUT", p.URL+p.c()+"/payment-settings/static", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+p.Tokens[identity.Admin])
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	st, sale := p.sale("static-1", body)
	if st != 201 || sale["status"] != "awaiting_payment" {
		t.Fatalf("static sale %d %v", st, sale)
	}
	if url := sale["payment"].(map[string]any)["qr_image_url"].(string); url != p.URL+p.c()+"/payment-settings/static" {
		t.Fatalf("qr_image_url %q", url)
	}
	for i := 0; i < 2; i++ {
		st, s := p.call("POST", p.c()+"/sales/"+sale["id"].(string)+"/confirm-static", vol, map[string]any{})
		if st != 200 || s["status"] != "paid" || s["fund_amount"] != "18.00" {
			t.Fatalf("confirm %d: %d %v", i, st, s)
		}
	}
	var posted int
	p.DB.Get(&posted, `SELECT count(*) FROM fund_proceeds WHERE source_id=$1`, sale["id"])
	if posted != 1 {
		t.Fatalf("posted %d times", posted)
	}

	st, walk := p.sale("walk-1", map[string]any{"location_id": p.stall, "lines": []map[string]any{{"product_id": p.pastry, "qty": 2}},
		"payment": map[string]any{"method": "qr", "provider": "sandbox"}})
	if st != 201 {
		t.Fatalf("sale %d", st)
	}
	if st, c := p.call("POST", p.c()+"/sales/"+walk["id"].(string)+"/cancel", vol, map[string]any{}); st != 200 || c["status"] != "cancelled" {
		t.Fatalf("cancel %d %v", st, c)
	}
	if st, _ := p.call("POST", p.c()+"/sales/"+walk["id"].(string)+"/cancel", vol, map[string]any{}); st != 409 {
		t.Fatalf("cancelling twice: %d", st)
	}
	var avail int
	p.DB.Get(&avail, `SELECT on_hand - reserved FROM stock_levels WHERE product_id=$1 AND location_id=$2`, p.pastry, p.stall)
	if avail != 4 {
		t.Fatalf("available %d, want 4", avail)
	}
	// Another community's admin sees none of it.
	other := p.newCommunityToken()
	if st, _ := p.call("GET", p.c()+"/sales/"+sale["id"].(string), other, nil); st != 404 {
		t.Fatalf("other community: %d", st)
	}
}

// newCommunityToken signs in the admin of a second community.
func (p *posEnv) newCommunityToken() string {
	_, users := p.newCommunity()
	return p.login(users[identity.Admin].Login, testPassword)
}
