package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/db"
	"shelin/internal/money"
)

// seedFundPage gives the env's community some fund history: sales, a
// completed project co-funded by residents, a project still collecting.
func (e *env) seedFundPage() fund.Posted {
	e.t.Helper()
	ctx := context.Background()
	l := fund.New(e.DB)
	var first fund.Posted
	for i := 0; i < 12; i++ {
		p := e.postSale(fmt.Sprintf("b%d", i), "38.00", "20.00")
		if i == 0 {
			first = p
		}
	}
	step := func(fn func(tx *sqlx.Tx) error) {
		if err := db.InTx(ctx, e.DB, fn); err != nil {
			e.t.Fatal(err)
		}
	}
	for i, pr := range []struct {
		title        string
		budget, fund string
		done         bool
	}{{"共筑晴窗", "1200.00", "150.00", true}, {"邻里小站", "900.00", "50.00", false}} {
		var p fund.Project
		step(func(tx *sqlx.Tx) (err error) {
			p, err = l.ProposeProject(ctx, tx, e.Com.ID, fund.ProjectInput{Title: pr.title, Budget: money.MustParse(pr.budget), FundShare: money.MustParse(pr.fund)})
			return err
		})
		step(func(tx *sqlx.Tx) error {
			_, err := l.ApproveProject(ctx, tx, e.Com.ID, p.ID, "", time.Time{})
			return err
		})
		amount := p.Budget.Sub(p.FundShare)
		if !pr.done {
			amount = money.MustParse("300.00")
		}
		step(func(tx *sqlx.Tx) error {
			_, _, err := l.Contribute(ctx, tx, e.Com.ID, p.ID, fund.ContributionInput{Amount: amount, Method: "cash", Contributor: "王奶奶", ReceiptNo: fmt.Sprintf("R%d", i)})
			return err
		})
		if pr.done {
			e.bankIn(fund.Contributions("cash"), amount.String()) // residents' cash deposited
			e.bankIn(fund.ProviderClearing("wechatpay"), p.FundShare.String())
			step(func(tx *sqlx.Tx) error {
				_, _, err := l.Disburse(ctx, tx, e.Com.ID, p.ID, fund.DisbursementInput{Amount: p.Budget, Payee: "某建材店", Memo: "材料"})
				return err
			})
			step(func(tx *sqlx.Tx) error {
				_, err := l.CompleteProject(ctx, tx, e.Com.ID, p.ID, 320, time.Time{})
				return err
			})
		}
	}
	return first
}

// The public transparency page on a phone: headline figures first, projects
// with their two parts, charts; a receipt's trace leads to the project.
func TestBrowserTransparencyPageAndReceiptTrace(t *testing.T) {
	e := newEnv(t)
	sale := e.seedFundPage()
	ctx := browser(t)
	for _, size := range [][2]int64{{390, 844}, {1440, 900}} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(size[0], size[1]),
			chromedp.Navigate(e.URL+"/c/"+e.Com.Slug),
			chromedp.WaitVisible("#headline"),
		)
		if err != nil {
			t.Fatal(err)
		}
		landed, _ := chromedp.Run(ctx, chromedp.Text("#h-landed"))
		benefited, _ := chromedp.Run(ctx, chromedp.Text("#h-benefited"))
		injected, _ := chromedp.Run(ctx, chromedp.Text("#h-injected"))
		leveraged, _ := chromedp.Run(ctx, chromedp.Text("#h-leveraged"))
		if landed != "2" || benefited != "320" || injected != "¥216.00" || leveraged != "¥1,550.00" {
			t.Fatalf("headline: landed %q benefited %q injected %q leveraged %q", landed, benefited, injected, leveraged)
		}
		// The headline comes before the projects, and nothing scrolls sideways.
		order, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#headline').getBoundingClientRect().top < document.querySelector('#projects').getBoundingClientRect().top`))
		overflow, _ := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
		charts, _ := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('svg.chart').length"))
		if !order || overflow || charts < 2 {
			t.Fatalf("layout at %v: headline first %v, sideways scroll %v, %d charts", size, order, overflow, charts)
		}
		text, _ := chromedp.Run(ctx, chromedp.Text("#projects"))
		if !strings.Contains(text, "共筑晴窗") || !strings.Contains(text, "基金支持 ¥150.00") || !strings.Contains(text, "居民募集 ¥1050.00") || !strings.Contains(text, "已完工") {
			t.Fatalf("projects: %q", text)
		}
		screenshot(t, ctx, fmt.Sprintf("fund-transparency-%dx%d", size[0], size[1]))
	}
	// A tourist scans the receipt: where did my ¥18.00 go?
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.URL+"/t/"+sale.TraceToken),
		chromedp.WaitVisible("#trace"),
	)
	if err != nil {
		t.Fatal(err)
	}
	amount, _ := chromedp.Run(ctx, chromedp.Text("#trace-amount"))
	to, _ := chromedp.Run(ctx, chromedp.Text(".trace-to"))
	if amount != "¥18.00" || !strings.Contains(to, "共筑晴窗") || !strings.Contains(to, "¥18.00") {
		t.Fatalf("trace: amount %q, to %q", amount, to)
	}
	screenshot(t, ctx, "fund-trace-390x844")
	if err := chromedp.Do(ctx, chromedp.Click(".trace-to a"), chromedp.WaitVisible("#headline")); err != nil {
		t.Fatal(err)
	}
	// The English page reads the same figures.
	if err := chromedp.Do(ctx, chromedp.Click("#lang-switch"), chromedp.WaitVisible("#headline")); err != nil {
		t.Fatal(err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Text("#fund-title"))
	if title != "Community Governance Development Fund" {
		t.Fatalf("English title %q", title)
	}
}
