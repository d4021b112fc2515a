package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

type catalogItem struct {
	ID         string       `json:"id"`
	SKU        string       `json:"sku"`
	Name       string       `json:"name"`
	NameEn     string       `json:"name_en"`
	Price      money.Amount `json:"price"`
	TrackStock bool         `json:"track_stock"`
	Available  *int         `json:"available"`
	ImageURL   string       `json:"image_url,omitempty"`
}

// posCatalog is GET {c}/pos/catalog?location_id=: the product tiles of a
// stall's tablet: name, price, picture and stock left there.
func (s *Server) posCatalog(c *fiber.Ctx) error {
	cid, loc := community(c).ID, c.Query("location_id")
	if loc == "" {
		return apperr.Field("location_id", "location_id is required")
	}
	if _, err := s.pos.svc.Stall(c.UserContext(), s.db, cid, loc); err != nil {
		return err
	}
	ps, err := s.pos.svc.Inventory.Products(c.UserContext(), s.db, cid, true)
	if err != nil {
		return err
	}
	levels, err := s.pos.svc.Inventory.Levels(c.UserContext(), s.db, cid, loc)
	if err != nil {
		return err
	}
	avail := map[string]int{}
	for _, l := range levels {
		avail[l.ProductID] = l.Available
	}
	items := make([]catalogItem, 0, len(ps))
	for _, p := range ps {
		it := catalogItem{ID: p.ID, SKU: p.SKU, Name: p.Name, NameEn: p.NameEn, Price: p.Price, TrackStock: p.TrackStock}
		if p.TrackStock {
			n, ok := avail[p.ID]
			if !ok {
				continue // never stocked at this stall
			}
			it.Available = &n
		}
		if p.ImageHash != nil {
			it.ImageURL = "/api/v1/communities/" + cid + "/pos/images/" + *p.ImageHash
		}
		items = append(items, it)
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": nil})
}
