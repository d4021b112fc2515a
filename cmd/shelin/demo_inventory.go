package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/inventory"
)

func init() { registerDemo(10, "products and stock", seedInventory) }

// demoProduct is one good of the Wuhan Road stalls.
type demoProduct struct {
	in     inventory.ProductInput
	colour color.NRGBA // of its picture
}

var demoProducts = []demoProduct{
	{inventory.ProductInput{SKU: "MDS-6", Name: "洛阳牡丹酥（6枚装）", GroupName: "洛阳牡丹酥", NameEn: "Luoyang peony pastry, box of 6",
		Price: "38.00", UnitCost: "21.00", Perishable: true}, color.NRGBA{0xd9, 0x4f, 0x8a, 0xff}},
	{inventory.ProductInput{SKU: "MDS-12", Name: "洛阳牡丹酥（12枚装）", GroupName: "洛阳牡丹酥", NameEn: "Luoyang peony pastry, box of 12",
		Price: "68.00", UnitCost: "39.00", Perishable: true}, color.NRGBA{0xb8, 0x2e, 0x6e, 0xff}},
	{inventory.ProductInput{SKU: "ART-PEONY", Name: "牡丹国画小品", NameEn: "Peony painting (small)", Price: "188.00", UnitCost: "0.00",
		MakerName: "林秋月", MakerSharePercent: "60"}, color.NRGBA{0xc9, 0x1f, 0x37, 0xff}},
	{inventory.ProductInput{SKU: "PAPERCUT", Name: "剪纸", NameEn: "Paper-cut", Price: "25.00", UnitCost: "8.00"}, color.NRGBA{0xe0, 0x1b, 0x24, 0xff}},
	{inventory.ProductInput{SKU: "BOOKMARK", Name: "文创书签", NameEn: "Bookmark", Price: "15.00", UnitCost: "4.50"}, color.NRGBA{0x3a, 0x7d, 0x44, 0xff}},
	{inventory.ProductInput{SKU: "TEA", Name: "牡丹花茶", NameEn: "Peony flower tea", Price: "48.00", UnitCost: "26.00"}, color.NRGBA{0x9c, 0x6b, 0x30, 0xff}},
}

// seedInventory loads the catalogue, the centre and the Peony Park stall,
// stock received at the centre (pastry in two best-before lots) and the
// morning transfer to the stall.
func seedInventory(e *demoEnv) error {
	inv := inventory.New(e.db)
	cid := e.community.ID
	admin := e.values["user.admin"]
	volunteer := e.values["user.volunteer"]
	ref := func(id string) *string {
		if id == "" {
			return nil
		}
		return &id
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	day := func(n int) string { return time.Now().In(loc).AddDate(0, 0, n).Format(time.DateOnly) }
	return e.inTx(func(tx *sqlx.Tx) error {
		store, err := inv.CreateLocation(e.ctx, tx, cid, "邻里中心", inventory.KindStore)
		if err != nil {
			return err
		}
		stall, err := inv.CreateLocation(e.ctx, tx, cid, "牡丹公园摊位", inventory.KindStall)
		if err != nil {
			return err
		}
		e.values["location.store"], e.values["location.stall"] = store.ID, stall.ID
		ids := map[string]string{}
		for _, dp := range demoProducts {
			in := dp.in
			in.UserID = ref(admin)
			p, err := inv.CreateProduct(e.ctx, tx, cid, in)
			if err != nil {
				return err
			}
			if _, err := inv.SetProductImage(e.ctx, tx, cid, p.ID, peonyPicture(dp.colour)); err != nil {
				return err
			}
			ids[p.SKU] = p.ID
			e.values["product."+p.SKU] = p.ID
		}
		// The pastry got dearer this autumn: a price change in the history.
		newPrice, newCost := "38.00", "22.00"
		if _, err := inv.UpdateProduct(e.ctx, tx, cid, ids["MDS-6"], inventory.ProductPatch{Price: &newPrice, UnitCost: &newCost, UserID: ref(admin)}); err != nil {
			return err
		}
		if _, err := inv.Receive(e.ctx, tx, cid, inventory.ReceiptInput{LocationID: store.ID, UserID: ref(admin), Note: "老字号饼家送货",
			Lines: []inventory.ReceiptLine{
				{ProductID: ids["MDS-6"], Qty: 24, LotCode: "MDS-A1", BestBefore: day(6)},
				{ProductID: ids["MDS-6"], Qty: 36, LotCode: "MDS-A2", BestBefore: day(14)},
				{ProductID: ids["MDS-12"], Qty: 20, LotCode: "MDS-B1", BestBefore: day(14)},
				{ProductID: ids["ART-PEONY"], Qty: 8},
				{ProductID: ids["PAPERCUT"], Qty: 40},
				{ProductID: ids["BOOKMARK"], Qty: 120},
				{ProductID: ids["TEA"], Qty: 30},
			}}); err != nil {
			return err
		}
		if _, err := inv.Transfer(e.ctx, tx, cid, inventory.TransferInput{FromLocationID: store.ID, ToLocationID: stall.ID,
			UserID: ref(volunteer), Note: "社区文创进公园 早上出摊",
			Lines: []inventory.Line{
				{ProductID: ids["MDS-6"], Qty: 20}, {ProductID: ids["MDS-12"], Qty: 8}, {ProductID: ids["ART-PEONY"], Qty: 3},
				{ProductID: ids["PAPERCUT"], Qty: 15}, {ProductID: ids["BOOKMARK"], Qty: 40}, {ProductID: ids["TEA"], Qty: 4},
			}}); err != nil {
			return err
		}
		thresholds := []struct {
			sku string
			loc string
			n   int
		}{{"MDS-6", stall.ID, 5}, {"MDS-12", stall.ID, 3}, {"TEA", stall.ID, 5}, {"MDS-6", store.ID, 12}, {"BOOKMARK", store.ID, 30}}
		for _, th := range thresholds {
			if err := inv.SetThreshold(e.ctx, tx, cid, ids[th.sku], th.loc, th.n); err != nil {
				return err
			}
		}
		return nil
	})
}

// peonyPicture draws a simple flower in the product's colour (the demo has
// no photographs).
func peonyPicture(c color.NRGBA) []byte {
	const size = 320
	m := image.NewNRGBA(image.Rect(0, 0, size, size))
	bg := color.NRGBA{0xfb, 0xf6, 0xee, 0xff}
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = bg.R, bg.G, bg.B, bg.A
	}
	cx, cy := float64(size)/2, float64(size)/2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			r := math.Hypot(dx, dy)
			petal := 95 + 30*math.Cos(6*math.Atan2(dy, dx))
			switch {
			case r < 28:
				m.SetNRGBA(x, y, color.NRGBA{0xf2, 0xc1, 0x4e, 0xff})
			case r < petal:
				shade := 1 - 0.35*r/petal
				m.SetNRGBA(x, y, color.NRGBA{uint8(float64(c.R) * shade), uint8(float64(c.G) * shade), uint8(float64(c.B) * shade), 0xff})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, m)
	return buf.Bytes()
}
