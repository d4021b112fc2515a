package web

import (
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
	"shelin/internal/db"
	"shelin/inventory"
)

// uploadProductImage sets a product's picture from a multipart "image" file
// (PNG or JPEG); it is shrunk to 800 px and stored once by content hash.
func (s *Server) uploadProductImage(c *fiber.Ctx) error {
	data, err := formImage(c)
	if err != nil {
		return err
	}
	var p inventory.Product
	err = db.InTx(c.UserContext(), s.db, func(tx *sqlx.Tx) (err error) {
		p, err = s.inv.SetProductImage(c.UserContext(), tx, community(c).ID, param(c, "id"), data)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(toProductJSON(p))
}

// formImage reads the uploaded "image" file of a multipart form.
func formImage(c *fiber.Ctx) ([]byte, error) {
	fh, err := c.FormFile("image")
	if err != nil {
		return nil, apperr.Field("image", "choose a PNG or JPEG picture to upload (multipart field \"image\")")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 8<<20))
}
