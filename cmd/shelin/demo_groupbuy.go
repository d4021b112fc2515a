package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/groupbuy"
	"shelin/identity"
	"shelin/internal/db"
	"shelin/internal/money"
	"shelin/inventory"
	"shelin/orders/payment"
	"shelin/pos"
)

func init() {
	registerDemo(32, "group-buys: one open, one succeeded with pickups, one failed and refunded", seedGroupBuys)
}

// gbKit is the group-buy service with a sandbox wallet whose signed
// notifications are kept in memory and handed to the webhook code by hand
// (demo data and the bench run without the job queue).
type gbKit struct {
	gb      *groupbuy.Service
	pos     *pos.Service
	sandbox *payment.SandboxProvider
	mu      sync.Mutex
	sent    map[string][]byte // the wallet's notifications by payment id
}

func newGBKit(d *sqlx.DB, ids *identity.Service, baseURL, secret string) *gbKit {
	if secret == "" {
		secret = "demo-seed-secret"
	}
	k := &gbKit{sent: map[string][]byte{}}
	k.sandbox = &payment.SandboxProvider{BaseURL: baseURL, Secret: []byte(secret), DB: d,
		Enqueue: func(_ context.Context, _ *sqlx.Tx, body []byte) error {
			var n struct {
				Data struct {
					PaymentID string `json:"payment_id"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &n); err != nil {
				return err
			}
			k.mu.Lock()
			defer k.mu.Unlock()
			k.sent[n.Data.PaymentID] = body
			return nil
		}}
	reg := payment.NewRegistry(payment.CashProvider{}, payment.StaticProvider{}, k.sandbox)
	inv, ledger := inventory.New(d), fund.New(d)
	k.gb = &groupbuy.Service{DB: d, Inventory: inv, Fund: ledger, Providers: reg, BaseURL: baseURL}
	k.pos = &pos.Service{DB: d, Inventory: inv, Fund: ledger, Identity: ids, BaseURL: baseURL, Providers: reg,
		Channels: map[string]pos.ChannelNotifications{groupbuy.Channel: k.gb}, Verifiers: []pos.Verifier{k.gb}}
	return k
}

// join makes a join in its own transaction.
func (k *gbKit) join(ctx context.Context, d *sqlx.DB, token string, in groupbuy.JoinInput) (*groupbuy.Joined, error) {
	var j *groupbuy.Joined
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) (err error) {
		j, err = k.gb.Join(ctx, tx, token, in)
		return
	})
	return j, err
}

// pay taps "pay" in the sandbox wallet and delivers the signed notification
// through the webhook code, as the queue would.
func (k *gbKit) pay(ctx context.Context, d *sqlx.DB, j *groupbuy.Joined) error {
	token := (*j.Payment.QRPayload)[strings.LastIndex(*j.Payment.QRPayload, "/pay/")+len("/pay/"):]
	if _, err := k.sandbox.Pay(ctx, d, token); err != nil {
		return err
	}
	k.mu.Lock()
	body, ok := k.sent[j.Payment.ID]
	k.mu.Unlock()
	if !ok {
		return fmt.Errorf("the wallet queued no notification for %s", j.Order.Number)
	}
	return k.deliver(ctx, body)
}

func (k *gbKit) deliver(ctx context.Context, body []byte) error {
	h := http.Header{}
	h.Set(payment.SignatureHeader, payment.Sign(k.sandbox.Secret, time.Now(), body))
	st, _, _, err := k.pos.HandleNotification(ctx, payment.Sandbox, h, body)
	if err != nil || st != http.StatusOK {
		return fmt.Errorf("notification: %d %v", st, err)
	}
	return nil
}

// seedGroupBuys: the 邻长 of 第3微网格 runs three group-buys — 牡丹花茶 open
// and filling up, 牡丹酥 succeeded with some boxes already picked up, and
// 剪纸 that did not reach its threshold and was refunded.
func seedGroupBuys(e *demoEnv) error {
	ctx, cid := e.ctx, e.community.ID
	k := newGBKit(e.db, e.ids, e.cfg.BaseURL, e.cfg.SandboxSecret)
	leader := e.values["user.leader"]
	grid := "第3微网格"
	if len(e.microGrids) > 0 {
		grid = e.microGrids[0].Name
	}
	zone := e.community.Location()
	day := func(days, hour int) time.Time {
		t := time.Now().In(zone).AddDate(0, 0, days)
		return time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, zone)
	}
	create := func(title, desc, sku, price, fundPer string, minQ, maxQ int, perPerson int, deadline time.Time) (*groupbuy.Campaign, error) {
		from, until := deadline.Add(15*time.Hour), deadline.Add(39*time.Hour)
		in := groupbuy.CampaignInput{Title: title, Description: desc, ProductID: e.values["product."+sku], Price: money.MustParse(price),
			FundPerUnit: money.MustParse(fundPer), MinQty: minQ, MaxQty: maxQ, PerPersonMax: &perPerson, Deadline: deadline,
			PickupPoint: "邻里小站（武汉路 12 号院 3 号楼下）", PickupFrom: &from, PickupUntil: &until, MicroGrid: grid, CreatedBy: leader}
		var c *groupbuy.Campaign
		err := e.inTx(func(tx *sqlx.Tx) (err error) {
			c, err = k.gb.Create(ctx, tx, cid, in)
			return
		})
		return c, err
	}
	neighbours := []struct{ name, building string }{
		{"王秀英", "3号楼1单元"}, {"李建国", "3号楼2单元"}, {"张桂兰", "5号楼1单元"}, {"刘德明", "5号楼2单元"},
		{"陈淑芬", "7号楼1单元"}, {"杨玉珍", "7号楼3单元"}, {"赵福生", "9号楼1单元"}, {"黄美华", "9号楼2单元"},
		{"周国庆", "3号楼3单元"}, {"吴翠兰", "5号楼3单元"}, {"徐志强", "7号楼2单元"}, {"孙丽娟", "9号楼3单元"},
	}
	joinPaid := func(c *groupbuy.Campaign, i, qty int) (*groupbuy.Joined, error) {
		n := neighbours[i%len(neighbours)]
		j, err := k.join(ctx, e.db, c.Token, groupbuy.JoinInput{Name: n.name, Phone: fmt.Sprintf("1390371%04d", 1000+i), Building: n.building,
			Qty: qty, Provider: payment.Sandbox})
		if err != nil {
			return nil, err
		}
		return j, k.pay(ctx, e.db, j)
	}

	// 1. Open: 牡丹花茶, 30 元一罐, 满 20 罐成团, 每罐 5 元进基金.
	open, err := create("洛阳牡丹花茶 30元一罐 满20罐成团", "洛阳本地牡丹花茶，每罐 100 克。每罐 5 元进社区治理发展基金，用于 3 号楼晾衣架微改造。",
		"TEA", "30.00", "5.00", 20, 60, 6, day(4, 18))
	if err != nil {
		return err
	}
	for i, q := range []int{2, 1, 3, 1, 2, 1, 2, 1, 1, 2} {
		if _, err := joinPaid(open, i, q); err != nil {
			return fmt.Errorf("open campaign join %d: %w", i, err)
		}
	}
	// 刘奶奶 has no smartphone: the 邻长 records her cash (owed to the fund
	// until handed to the treasurer).
	if err := e.inTx(func(tx *sqlx.Tx) error {
		_, err := k.gb.Join(ctx, tx, open.Token, groupbuy.JoinInput{Name: "刘奶奶", Phone: "13903718888", Building: "2号楼1单元", Qty: 2,
			Provider: payment.Cash, ProxyBy: leader})
		return err
	}); err != nil {
		return err
	}
	// One neighbour is still paying (a pending join holds its can).
	if _, err := k.join(ctx, e.db, open.Token, groupbuy.JoinInput{Name: "孙丽娟", Phone: "13903719999", Building: "9号楼3单元", Qty: 1,
		Provider: payment.Sandbox}); err != nil {
		return err
	}

	// 2. Succeeded: 牡丹酥 for the Double Ninth, settled by the 邻长, pickups under way.
	done, err := create("重阳节 洛阳牡丹酥 满8盒成团", "给楼里的老人备一份重阳点心。每盒 10 元进基金。", "MDS-6", "36.00", "10.00", 8, 30, 4, day(2, 20))
	if err != nil {
		return err
	}
	var paid []*groupbuy.Joined
	for i, q := range []int{2, 1, 1, 3, 1, 2} {
		j, err := joinPaid(done, i+3, q)
		if err != nil {
			return fmt.Errorf("succeeded campaign join %d: %w", i, err)
		}
		paid = append(paid, j)
	}
	if _, err := k.gb.Settle(ctx, cid, done.ID); err != nil {
		return err
	}
	for i, j := range paid[:3] {
		forWhom := ""
		if i == 2 {
			forWhom = "代 " + j.Join.Name + " 取（邻居帮忙）"
		}
		if err := e.inTx(func(tx *sqlx.Tx) error {
			_, err := k.gb.Pickup(ctx, tx, cid, done.ID, j.Join.PickupCode, leader, forWhom)
			return err
		}); err != nil {
			return err
		}
	}

	// 3. Failed: 剪纸 did not reach 15; every neighbour refunded through the wallet.
	failed, err := create("春节剪纸 满15套成团", "请社区剪纸老师做的窗花，每套 8 元进基金。", "PAPERCUT", "25.00", "8.00", 15, 40, 5, day(1, 12))
	if err != nil {
		return err
	}
	for i, q := range []int{1, 2, 1, 1} {
		if _, err := joinPaid(failed, i+6, q); err != nil {
			return fmt.Errorf("failed campaign join %d: %w", i, err)
		}
	}
	if _, err := k.gb.Settle(ctx, cid, failed.ID); err != nil {
		return err
	}
	if n, err := k.gb.SweepRefunds(ctx, -time.Minute, 100); err != nil || n != 4 {
		return fmt.Errorf("refunds of the failed group-buy: %d submitted, %v", n, err)
	}
	fmt.Printf("demo: group-buy join page %s/g/%s (poster %s/g/%s/poster); the 邻长's page /admin/%s/groupbuys\n",
		strings.TrimRight(e.cfg.BaseURL, "/"), open.Token, strings.TrimRight(e.cfg.BaseURL, "/"), open.Token, cid)
	return nil
}
