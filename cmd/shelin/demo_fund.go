package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/money"
)

func init() { registerDemo(20, "fund history and projects", seedFund) }

// demoProject is one of the invented micro-renovation projects.
type demoProject struct {
	title, purpose, desc string
	budget, share        int64 // yuan
	residents            int
	state                string // completed | funded | approved | proposed
}

// The Wuhan Road report: fund injected 2万余元, 21 projects landed, 14万元
// leveraged, 5,500+ residents benefited. Titles and numbers are invented.
var demoProjects = []demoProject{
	{"共筑晴窗", "general", "老旧楼栋更换破损窗户玻璃，邻长带动居民共同出资。", 9800, 1200, 320, "completed"},
	{"邻里小站", "general", "在 2 号楼下建设团购自提与邻里互助小站。", 12600, 1500, 620, "completed"},
	{"楼道灯亮化", "general", "楼道声控灯全部更换为 LED。", 4200, 600, 210, "completed"},
	{"适老扶手安装", "养老", "为 6 个单元楼道加装适老扶手。", 8600, 1100, 180, "completed"},
	{"幸福长廊", "general", "修缮小区长廊座椅与顶棚。", 11800, 1300, 420, "completed"},
	{"口袋花园", "文化", "利用边角地建设口袋花园。", 6300, 800, 350, "completed"},
	{"共享工具屋", "general", "居民共享工具借用点。", 3800, 500, 260, "completed"},
	{"便民晾衣架", "general", "小区空地安装公共晾衣架。", 3200, 450, 300, "completed"},
	{"电动车充电棚", "general", "集中充电棚，消除飞线充电隐患。", 15800, 1400, 560, "completed"},
	{"楼栋议事角", "文化", "楼栋议事与公告角。", 2900, 400, 150, "completed"},
	{"儿童游戏角", "托育", "铺设软垫、安装游戏设施。", 7600, 900, 240, "completed"},
	{"单元门禁修缮", "general", "修复损坏的单元门禁。", 5400, 700, 280, "completed"},
	{"屋顶防水补漏", "general", "3 号楼屋顶防水层修补。", 9900, 1100, 120, "completed"},
	{"银龄食堂桌椅", "助餐", "为社区长者食堂添置桌椅。", 4600, 700, 230, "completed"},
	{"社区书屋", "文化", "旧物间改造为社区书屋。", 5200, 650, 330, "completed"},
	{"雨棚更新", "general", "更换单元门口破损雨棚。", 3900, 500, 190, "completed"},
	{"健身角翻新", "general", "翻新健身器材与地面。", 6800, 800, 310, "completed"},
	{"垃圾分类亭", "general", "建设带洗手池的垃圾分类亭。", 5600, 700, 520, "completed"},
	{"无障碍坡道", "养老", "单元入口加装无障碍坡道。", 4300, 600, 160, "funded"},
	{"休闲座椅", "general", "小区主路旁增设休闲座椅。", 2800, 400, 0, "funded"},
	{"楼道粉刷", "general", "5 号楼楼道墙面粉刷。", 5000, 650, 0, "approved"},
	{"邻里文化墙", "文化", "绘制武汉路社区邻里文化墙。", 3600, 500, 0, "proposed"},
}

var demoStallProducts = []struct {
	ref         string
	price, cost int64 // cents
	maker       string
}{
	{"洛阳牡丹酥 6 枚", 3800, 2000, ""},
	{"牡丹饼礼盒", 6800, 4000, ""},
	{"牡丹国画小品", 12000, 3000, "画家 田老师"},
	{"手工牡丹团扇", 4500, 1500, "手作 方阿姨"},
	{"牡丹书签", 1500, 500, ""},
}

var demoGroupBuys = []struct {
	title             string
	price, fund, cost int64 // cents per unit: price = cost + fund
}{
	{"社邻益购·新鲜樱桃", 3990, 400, 3590},
	{"社邻益购·偃师银条", 2590, 300, 2290},
	{"社邻益购·孟津梨", 2980, 350, 2630},
	{"社邻益购·洛阳浆面条礼包", 4590, 500, 4090},
	{"社邻益购·栾川土鸡蛋", 3680, 400, 3280},
}

// seedFund writes a year of fund history through the real posting code:
// stall sales, group-buys and donations, rule changes, projects with
// residents' contributions, disbursements with vouchers, and a few refunds.
func seedFund(e *demoEnv) error {
	l := fund.New(e.db)
	cid := e.community.ID
	r := rand.New(rand.NewPCG(2026, 11))
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	start := time.Date(2026, 1, 10, 10, 0, 0, 0, loc)
	day := func(d int, hour int) time.Time { return start.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
	admin, treasurer := e.users[identity.Admin].ID, e.users[identity.Treasurer].ID

	if _, err := l.SetRulesTx(e.ctx, cid, admin, []fund.RuleEarmark{{Name: fund.General, Percent: decimal.NewFromInt(100)}}); err != nil {
		return err
	}
	stall := e.values["location.stall"]
	post := func(p fund.Proceeds) error {
		return e.inTx(func(tx *sqlx.Tx) error { _, err := l.PostProceeds(e.ctx, tx, p); return err })
	}
	var saleIDs []string
	// Stall events in the park, twice a month: about ¥8,000 of net proceeds.
	n := 0
	for ev := 0; ev < 16; ev++ {
		if ev == 6 { // from spring on, part of the money is earmarked
			if _, err := l.SetRulesTx(e.ctx, cid, admin, []fund.RuleEarmark{
				{Name: "养老", Percent: decimal.NewFromInt(15)}, {Name: "托育", Percent: decimal.NewFromInt(5)},
				{Name: "助餐", Percent: decimal.NewFromInt(10)}, {Name: "文化", Percent: decimal.NewFromInt(10)},
				{Name: fund.General, Percent: decimal.NewFromInt(60)},
			}); err != nil {
				return err
			}
		}
		for k := 0; k < 16; k++ {
			n++
			prod := demoStallProducts[r.IntN(len(demoStallProducts))]
			qty := int64(1)
			gross := money.FromCents(prod.price * qty)
			p := fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: fmt.Sprintf("demo-sale-%04d", n),
				SourceRef: fmt.Sprintf("WH%s-%04d", day(ev*19, 0).Format("0102"), n), Gross: gross, At: day(ev*19, 1+k%6)}
			if prod.maker != "" {
				p.MakerShare = money.FromCents(prod.cost * qty)
				p.Makers = []fund.MakerPart{{Name: prod.maker, Amount: p.MakerShare}}
			} else {
				p.SupplierCost = money.FromCents(prod.cost * qty)
			}
			switch {
			case r.IntN(10) < 4 && isUUIDish(stall):
				p.DebitAccount = fund.CashDrawer(stall)
			case r.IntN(2) == 0:
				p.DebitAccount = fund.ProviderClearing("wechatpay")
				p.ProviderFee = money.FromCents(gross.Cents() * 6 / 1000)
			default:
				p.DebitAccount = fund.ProviderClearing("alipay")
				p.ProviderFee = money.FromCents(gross.Cents() * 6 / 1000)
			}
			if err := post(p); err != nil {
				return fmt.Errorf("sale %d: %w", n, err)
			}
			saleIDs = append(saleIDs, p.SourceID)
		}
	}
	// Charity group-buys of the micro-grids: about ¥9,000.
	n = 0
	for gb := 0; gb < 24; gb++ {
		g := demoGroupBuys[gb%len(demoGroupBuys)]
		joins := 30 + r.IntN(30)
		for j := 0; j < joins; j++ {
			n++
			qty := int64(1 + r.IntN(3))
			p := fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceGroupBuy, SourceID: fmt.Sprintf("demo-gb-%02d-%03d", gb, j),
				SourceRef: fmt.Sprintf("%s 第%d期", g.title, gb/len(demoGroupBuys)+1), DebitAccount: fund.GroupBuyEscrow(),
				Gross: money.FromCents(g.price * qty), SupplierCost: money.FromCents(g.cost * qty), At: day(gb*13+3, 2)}
			// The resident's prepayment arrives by WeChat Pay into escrow;
			// the campaign's success releases it as proceeds.
			if err := e.inTx(func(tx *sqlx.Tx) error {
				_, err := l.PostTransfer(e.ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "groupbuy_join_paid", SourceID: p.SourceID,
					SourceRef: p.SourceRef, Debit: fund.ProviderClearing("wechatpay"), Credit: fund.GroupBuyEscrow(), Amount: p.Gross,
					At: p.At.Add(-48 * time.Hour)})
				return err
			}); err != nil {
				return fmt.Errorf("group-buy join %d: %w", n, err)
			}
			if err := post(p); err != nil {
				return fmt.Errorf("group-buy %d: %w", n, err)
			}
		}
	}
	// Donations from local shops.
	for i, d := range []struct {
		who, earmark string
		yuan         int64
	}{{"爱心商户 牡丹茶社", "", 1000}, {"爱心商户 老城药房", "养老", 800}, {"居民 匿名", "", 500}, {"爱心商户 洛阳书店", "文化", 600}} {
		if err := post(fund.Proceeds{CommunityID: cid, SourceKind: fund.SourceDonation, SourceID: fmt.Sprintf("demo-donation-%d", i),
			SourceRef: "捐赠 · " + d.who, DebitAccount: fund.Bank(), Gross: money.FromCents(d.yuan * 100), Earmark: d.earmark,
			At: day(40+i*60, 3)}); err != nil {
			return err
		}
	}
	// Two refunds at the stall, one of them partial.
	for i, amt := range []string{"1000.00", "10.00"} {
		src := saleIDs[10+i*100]
		err := e.inTx(func(tx *sqlx.Tx) error {
			t, err := l.TraceSource(e.ctx, tx, cid, fund.SourceSale, src)
			if err != nil {
				return err
			}
			_, err = l.ReverseProceeds(e.ctx, tx, fund.Reversal{CommunityID: cid, SourceKind: fund.SourceSale, SourceID: src,
				ReversalID: fmt.Sprintf("demo-refund-%d", i), Gross: money.Min(t.Gross, money.MustParse(amt)), At: t.At.Add(time.Hour)})
			return err
		})
		if err != nil {
			return err
		}
	}

	// settle moves what the drawers, the providers' clearing accounts and
	// the 邻长's collected cash hold into the community's bank account, as
	// the treasurer does before paying anything out (sandbox money is not
	// real and never reaches the bank).
	settled := 0
	settle := func(at time.Time) error {
		accts, err := l.Accounts(e.ctx, e.db, cid)
		if err != nil {
			return err
		}
		for _, a := range accts {
			switch a.Kind {
			case fund.KindCashDrawer, fund.KindProviderClearing, fund.KindContributions:
			default:
				continue
			}
			if !a.Balance.IsPositive() || (a.Kind == fund.KindProviderClearing && a.Key == fund.SandboxProvider) {
				continue
			}
			settled++
			if err := e.inTx(func(tx *sqlx.Tx) error {
				_, err := l.PostTransfer(e.ctx, tx, fund.Transfer{CommunityID: cid, SourceKind: "bank_deposit", SourceID: fmt.Sprintf("demo-settle-%04d", settled),
					SourceRef: "存入银行", Debit: fund.Bank(), Credit: fund.AccountRef{Kind: a.Kind, Key: a.Key}, Amount: a.Balance, At: at})
				return err
			}); err != nil {
				return fmt.Errorf("settle %s:%s: %w", a.Kind, a.Key, err)
			}
		}
		return nil
	}

	// Projects: proposed by the 邻长 of a micro-grid, approved by the admin,
	// co-funded by residents, paid out with vouchers, completed.
	voucher := demoVoucher()
	contributors := []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"}
	receipt := 0
	for i, dp := range demoProjects {
		at := day(60+i*13, 4)
		grid := ""
		if len(e.microGrids) > 0 {
			grid = e.microGrids[i%len(e.microGrids)].ID
		}
		proposer := ""
		if len(e.leaders) > 0 {
			proposer = e.leaders[i%len(e.leaders)].ID
		}
		var p fund.Project
		err := e.inTx(func(tx *sqlx.Tx) (err error) {
			p, err = l.ProposeProject(e.ctx, tx, cid, fund.ProjectInput{Title: dp.title, Description: dp.desc, Purpose: dp.purpose,
				Budget: money.FromCents(dp.budget * 100), FundShare: money.FromCents(dp.share * 100), MicroGrid: grid, ProposedBy: proposer, At: at})
			return err
		})
		if err != nil {
			return fmt.Errorf("project %s: %w", dp.title, err)
		}
		if dp.state == "proposed" {
			continue
		}
		if err := e.inTx(func(tx *sqlx.Tx) error {
			_, err := l.ApproveProject(e.ctx, tx, cid, p.ID, admin, at.AddDate(0, 0, 3))
			return err
		}); err != nil {
			return fmt.Errorf("approve %s: %w", dp.title, err)
		}
		// Residents' part, in contributions of ¥50–¥600 collected by the 邻长.
		target := (dp.budget - dp.share) * 100
		if dp.state == "approved" {
			target = target * 45 / 100
		}
		for given, k := int64(0), 0; given < target; k++ {
			amt := int64(5000 + r.IntN(55000))
			amt -= amt % 1000
			if given+amt > target {
				amt = target - given
			}
			given += amt
			receipt++
			method := "cash"
			if k%3 == 2 {
				method = "qr"
			}
			if err := e.inTx(func(tx *sqlx.Tx) error {
				_, _, err := l.Contribute(e.ctx, tx, cid, p.ID, fund.ContributionInput{Amount: money.FromCents(amt), Method: method,
					Contributor: contributors[r.IntN(len(contributors))] + "家", ReceiptNo: fmt.Sprintf("WHL-%05d", receipt),
					CollectedBy: proposer, At: at.AddDate(0, 0, 5+k%20)})
				return err
			}); err != nil {
				return fmt.Errorf("contribution to %s: %w", dp.title, err)
			}
		}
		if dp.state == "approved" {
			continue
		}
		// Paid out in two parts: materials, then labour.
		total := money.FromCents(dp.budget * 100)
		first := money.FromCents(dp.budget * 100 * 6 / 10)
		for k, part := range []struct {
			payee, memo string
			amount      money.Amount
		}{{"洛阳市西工区建材商行", "材料费", first}, {"社区施工队 老孙", "人工费", total.Sub(first)}} {
			if k == 1 && dp.state != "completed" {
				break // started: materials paid, labour not yet
			}
			// Money reaches the bank before it is paid out of it.
			if err := settle(at.AddDate(0, 1, 10*k).Add(-time.Hour)); err != nil {
				return err
			}
			if err := e.inTx(func(tx *sqlx.Tx) error {
				in := fund.DisbursementInput{Amount: part.amount, Payee: part.payee, Memo: dp.title + " " + part.memo,
					CreatedBy: treasurer, At: at.AddDate(0, 1, 10*k)}
				if k == 0 {
					in.Voucher, in.VoucherType = voucher, "image/png"
				}
				_, _, err := l.Disburse(e.ctx, tx, cid, p.ID, in)
				return err
			}); err != nil {
				return fmt.Errorf("disbursement for %s: %w", dp.title, err)
			}
		}
		if dp.state != "completed" {
			continue
		}
		if err := e.inTx(func(tx *sqlx.Tx) error {
			_, err := l.CompleteProject(e.ctx, tx, cid, p.ID, dp.residents, at.AddDate(0, 2, 0))
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// demoVoucher is a small PNG standing in for a photographed invoice.
func demoVoucher() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			c := color.RGBA{250, 248, 240, 255}
			if y%12 == 0 && x > 10 && x < 110 {
				c = color.RGBA{60, 60, 60, 255}
			}
			if x > 80 && x < 105 && y > 50 && y < 72 {
				c = color.RGBA{200, 30, 30, 255} // the seal
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func isUUIDish(s string) bool { return len(s) == 36 }
