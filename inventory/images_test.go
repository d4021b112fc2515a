package inventory_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/inventory"
)

func pngOf(w, h int, alpha uint8) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: alpha})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, m)
	return buf.Bytes()
}

func TestProductImageIsResizedAndStoredOnce(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "ART-1", Name: "牡丹国画小品", MakerName: "林秋月", MakerSharePercent: "60"})
	cases := []struct {
		name         string
		data         []byte
		ctype        string
		width, hight int
	}{
		{"large photo shrinks to 800 px", pngOf(1200, 900, 255), "image/jpeg", 800, 600},
		{"tall picture keeps its shape", pngOf(300, 1200, 255), "image/jpeg", 200, 800},
		{"small transparent PNG stays PNG", pngOf(120, 80, 128), "image/png", 120, 80},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got inventory.Product
			f.must(f.tx(func(tx *sqlx.Tx) (err error) {
				got, err = f.inv.SetProductImage(f.ctx, tx, f.cid, p.ID, c.data)
				return err
			}))
			if got.ImageHash == nil {
				t.Fatal("no image hash")
			}
			img, err := f.inv.ImageByHash(f.ctx, f.db, *got.ImageHash)
			f.must(err)
			if img.ContentType != c.ctype || img.Width != c.width || img.Height != c.hight {
				t.Fatalf("stored %s %dx%d; want %s %dx%d", img.ContentType, img.Width, img.Height, c.ctype, c.width, c.hight)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(img.Data))
			f.must(err)
			if cfg.Width != c.width || cfg.Height != c.hight {
				t.Fatalf("bytes are %dx%d", cfg.Width, cfg.Height)
			}
		})
	}
	// The same upload twice is one stored image.
	data := pngOf(900, 900, 255)
	for i := 0; i < 2; i++ {
		f.must(f.tx(func(tx *sqlx.Tx) error { _, err := f.inv.SetProductImage(f.ctx, tx, f.cid, p.ID, data); return err }))
	}
	var n int
	f.must(f.db.Get(&n, `SELECT count(*) FROM product_images WHERE community_id = $1`, f.cid))
	if n != 4 {
		t.Fatalf("%d images stored; want 4 (the repeat is deduplicated)", n)
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 10, 10)), nil)
	for _, bad := range [][]byte{nil, []byte("GIF89a not an image"), []byte("\x89PNG\r\n\x1a\n broken")} {
		err := f.tx(func(tx *sqlx.Tx) error { _, err := f.inv.SetProductImage(f.ctx, tx, f.cid, p.ID, bad); return err })
		wantCode(t, err, apperr.Invalid, "image")
	}
	f.must(f.tx(func(tx *sqlx.Tx) error {
		_, err := f.inv.SetProductImage(f.ctx, tx, f.cid, p.ID, jb.Bytes())
		return err
	}))
}

func TestPriceHistoryKeepsEveryChange(t *testing.T) {
	f := newFixture(t)
	p := f.product(inventory.ProductInput{SKU: "MDS-12", Name: "洛阳牡丹酥（12枚装）", GroupName: "洛阳牡丹酥", Price: "68.00", UnitCost: "40.00"})
	price, cost, name := "72.00", "41.50", "洛阳牡丹酥 12枚礼盒"
	f.must(f.tx(func(tx *sqlx.Tx) error {
		_, err := f.inv.UpdateProduct(f.ctx, tx, f.cid, p.ID, inventory.ProductPatch{Price: &price, UnitCost: &cost})
		return err
	}))
	// A rename alone is not a price change.
	f.must(f.tx(func(tx *sqlx.Tx) error {
		_, err := f.inv.UpdateProduct(f.ctx, tx, f.cid, p.ID, inventory.ProductPatch{Name: &name})
		return err
	}))
	bad := "72.005"
	err := f.tx(func(tx *sqlx.Tx) error {
		_, err := f.inv.UpdateProduct(f.ctx, tx, f.cid, p.ID, inventory.ProductPatch{Price: &bad})
		return err
	})
	wantCode(t, err, apperr.Invalid, "price")
	h, err := f.inv.PriceHistory(f.ctx, f.db, f.cid, p.ID)
	f.must(err)
	if len(h) != 2 || h[0].Price.String() != "68.00" || h[1].Price.String() != "72.00" || h[1].UnitCost.String() != "41.50" {
		t.Fatalf("history = %+v; want 68.00 then 72.00/41.50", h)
	}
	got, err := f.inv.Product(f.ctx, f.db, f.cid, p.ID)
	f.must(err)
	if got.Name != name || got.GroupName != "洛阳牡丹酥" || got.Price.String() != "72.00" {
		t.Fatalf("product = %+v", got)
	}
}
