package web

import (
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/inventory"
)

// Shared pieces of the catalogue and stock handlers (product_*.go,
// location_*.go, stock_*.go, page_inv_*.go).

// productJSON is a product as the API shows it, with its picture's URL.
type productJSON struct {
	inventory.Product
	ImageURL *string `json:"image_url"`
}

func toProductJSON(p inventory.Product) productJSON {
	out := productJSON{Product: p}
	if p.ImageHash != nil {
		u := imageURL(*p.ImageHash)
		out.ImageURL = &u
	}
	return out
}

// imageURL is where a product picture is served (immutable, by content hash).
func imageURL(hash string) string { return "/img/" + hash }

// userRef is the signed-in user's id for movement and history records.
func userRef(c *fiber.Ctx) *string {
	u := currentUser(c)
	if u.ID == "" {
		return nil
	}
	id := u.ID
	return &id
}

// param copies a route parameter (Fiber reuses its buffers).
func param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }

// query copies a query parameter.
func query(c *fiber.Ctx, name string) string { return strings.Clone(c.Query(name)) }

// encodeCursor makes an opaque cursor as listParams expects it.
func encodeCursor(s string) *string {
	if s == "" {
		return nil
	}
	v := base64.RawURLEncoding.EncodeToString([]byte(s))
	return &v
}
