package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	qrcode "github.com/skip2/go-qrcode"
)

// QRPNG draws payload as a PNG, size pixels square.
func QRPNG(payload string, size int) ([]byte, error) {
	if payload == "" {
		return nil, errors.New("qr: empty payload")
	}
	return qrcode.Encode(payload, qrcode.Medium, size)
}

// QRSVG draws payload as an SVG from the module bitmap: one path of
// rectangles in absolute coordinates, moduleSize units per module, quiet zone
// included. The viewBox lets it scale crisply to any size on screen.
func QRSVG(payload string, moduleSize int) (string, error) {
	if payload == "" {
		return "", errors.New("qr: empty payload")
	}
	if moduleSize < 1 {
		moduleSize = 1
	}
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bm := q.Bitmap()
	u := moduleSize
	w := len(bm) * u
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, w, w, w, w)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, w, w)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dH%dV%dH%dZ", start*u, y*u, x*u, (y+1)*u, start*u)
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// QRImages returns the PNG and SVG of a payment's payload, drawing them once
// and caching them in payment_qr_images so every replica serves the same bytes.
func QRImages(ctx context.Context, d *sqlx.DB, paymentID, payload string) (png []byte, svg string, err error) {
	var row struct {
		PNG []byte `db:"png"`
		SVG string `db:"svg"`
	}
	err = d.GetContext(ctx, &row, `SELECT png, svg FROM payment_qr_images WHERE payment_id=$1`, paymentID)
	if err == nil {
		return row.PNG, row.SVG, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, "", err
	}
	if png, err = QRPNG(payload, 512); err != nil {
		return nil, "", err
	}
	if svg, err = QRSVG(payload, 16); err != nil {
		return nil, "", err
	}
	_, err = d.ExecContext(ctx, `INSERT INTO payment_qr_images (payment_id, png, svg) VALUES ($1,$2,$3) ON CONFLICT (payment_id) DO NOTHING`, paymentID, png, svg)
	return png, svg, err
}
