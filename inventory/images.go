package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"regexp"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
)

// MaxImageSide is the longest side of a stored product image, in pixels.
const MaxImageSide = 800

// maxSourcePixels bounds the decoded size of an upload (a decompression bomb
// is refused before it is decoded).
const maxSourcePixels = 50_000_000

// Image is a stored product image, addressed by the SHA-256 of its bytes.
type Image struct {
	Hash        string `db:"sha256"`
	ContentType string `db:"content_type"`
	Width       int    `db:"width"`
	Height      int    `db:"height"`
	Data        []byte `db:"data"`
}

// PrepareImage decodes an uploaded PNG or JPEG, shrinks it to at most
// MaxImageSide pixels on its longest side and re-encodes it (PNG stays PNG
// when it has transparency, everything else becomes JPEG). Re-encoding also
// drops metadata such as the GPS position of a phone photo.
func PrepareImage(data []byte) (Image, error) {
	if len(data) == 0 {
		return Image{}, apperr.Field("image", "the image is empty")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return Image{}, apperr.Field("image", "the image must be a PNG or JPEG file")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxSourcePixels {
		return Image{}, apperr.Field("image", "the image is too large (at most 50 megapixels)")
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, apperr.Field("image", "the image could not be read: %v", err)
	}
	dst := shrink(src, MaxImageSide)
	var buf bytes.Buffer
	ct := "image/jpeg"
	if format == "png" && !opaque(dst) {
		ct = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst)
	} else {
		err = jpeg.Encode(&buf, flatten(dst), &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return Image{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	b := dst.Bounds()
	return Image{Hash: hex.EncodeToString(sum[:]), ContentType: ct, Width: b.Dx(), Height: b.Dy(), Data: buf.Bytes()}, nil
}

// shrink scales src down (never up) so that its longest side is at most max,
// averaging the source pixels under each target pixel (a box filter).
func shrink(src image.Image, max int) *image.NRGBA {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	rgba := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	draw.Draw(rgba, rgba.Bounds(), src, sb.Min, draw.Src)
	if sw <= max && sh <= max {
		return rgba
	}
	dw, dh := max, sh*max/sw
	if sh > sw {
		dw, dh = sw*max/sh, max
	}
	dw, dh = maxInt(dw, 1), maxInt(dh, 1)
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := y*sh/dh, maxInt((y+1)*sh/dh, y*sh/dh+1)
		for x := 0; x < dw; x++ {
			x0, x1 := x*sw/dw, maxInt((x+1)*sw/dw, x*sw/dw+1)
			var r, g, b, a, n uint64
			for sy := y0; sy < y1; sy++ {
				row := rgba.Pix[sy*rgba.Stride:]
				for sx := x0; sx < x1; sx++ {
					p := row[sx*4 : sx*4+4]
					pa := uint64(p[3])
					// Weight colour by alpha so transparent pixels do not darken edges.
					r += uint64(p[0]) * pa
					g += uint64(p[1]) * pa
					b += uint64(p[2]) * pa
					a += pa
					n++
				}
			}
			o := dst.Pix[y*dst.Stride+x*4:]
			if a > 0 {
				o[0], o[1], o[2] = uint8(r/a), uint8(g/a), uint8(b/a)
			}
			o[3] = uint8(a / n)
		}
	}
	return dst
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func opaque(m *image.NRGBA) bool {
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 0xff {
			return false
		}
	}
	return true
}

// flatten puts an image on a white background (JPEG has no transparency).
func flatten(m *image.NRGBA) image.Image {
	if opaque(m) {
		return m
	}
	out := image.NewRGBA(m.Bounds())
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), m, m.Bounds().Min, draw.Over)
	return out
}

// SetProductImage stores an uploaded image (resized) and makes it the
// product's picture. The same picture uploaded twice is stored once.
func (s *Store) SetProductImage(ctx context.Context, tx *sqlx.Tx, communityID, productID string, data []byte) (Product, error) {
	if _, err := s.Product(ctx, tx, communityID, productID); err != nil {
		return Product{}, err
	}
	img, err := PrepareImage(data)
	if err != nil {
		return Product{}, err
	}
	var id string
	err = tx.GetContext(ctx, &id, `WITH ins AS (
			INSERT INTO product_images (community_id, sha256, content_type, width, height, data) VALUES ($1,$2,$3,$4,$5,$6)
			ON CONFLICT (community_id, sha256) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL SELECT id FROM product_images WHERE community_id = $1 AND sha256 = $2 LIMIT 1`,
		communityID, img.Hash, img.ContentType, img.Width, img.Height, img.Data)
	if err != nil {
		return Product{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET image_id = $3, updated_at = now() WHERE community_id = $1 AND id = $2`,
		communityID, productID, id); err != nil {
		return Product{}, err
	}
	return s.Product(ctx, tx, communityID, productID)
}

var hashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ImageByHash returns a stored image by content hash (served at an
// immutable URL; the same bytes in any community are the same image).
func (s *Store) ImageByHash(ctx context.Context, q sqlx.QueryerContext, hash string) (Image, error) {
	var img Image
	if !hashRe.MatchString(hash) {
		return img, apperr.NotFoundf("image not found")
	}
	err := sqlx.GetContext(ctx, q, &img, `SELECT sha256, content_type, width, height, data FROM product_images WHERE sha256 = $1 LIMIT 1`, hash)
	if isNoRows(err) {
		return img, apperr.NotFoundf("image not found")
	}
	return img, err
}
