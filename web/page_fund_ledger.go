package web

import (
	"encoding/base64"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
	"shelin/identity"
	"shelin/internal/money"
)

// ledgerPageView is what templates/fund_ledger.html shows.
type ledgerPageView struct {
	Community  identity.Community
	Fund       fundJSON
	Earmarks   []earmarkView
	Verify     fund.VerifyResult
	Accounts   []accountRow
	Entries    []entryRow
	From, To   string
	Kind       string
	Kinds      []string
	NextURL    string
	CSVURL     string
	PageDebit  money.Amount
	PageCredit money.Amount
	FormKey    string
	Donated    bool
	Error      string
	CanDonate  bool
}

type accountRow struct {
	Kind, Key, Label string
	Normal           string
	Balance          money.Amount
}

type entryRow struct {
	fund.Entry
	KindLabel string
	Rules     string // "v2" for proceeds entries
	Lines     []postingRow
}

type postingRow struct {
	Account       string
	Debit, Credit money.Amount
}

// pageFundLedger is the treasurer's ledger: the fund, verification, account
// balances and entries with filters, totals and a CSV export.
func (s *Server) pageFundLedger(c *fiber.Ctx) error {
	com := community(c)
	l := s.fundLedger()
	f, err := entryFilter(c)
	if err != nil {
		return err
	}
	sum, err := l.FundSummary(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	v := ledgerPageView{Community: com, Fund: toFundJSON(sum), From: c.Query("from"), To: c.Query("to"), Kind: f.Kind,
		Kinds:   []string{"proceeds", "reversal", "commitment", "contribution", "disbursement", "transfer"},
		FormKey: newFormKey(), Donated: c.Query("donated") == "1", Error: c.Query("error")}
	switch currentUser(c).Role {
	case identity.Admin, identity.Treasurer, identity.PlatformAdmin:
		v.CanDonate = true
	}
	lg := lang(c)
	for _, e := range v.Fund.Earmarks {
		v.Earmarks = append(v.Earmarks, earmarkView{Name: e.Name, Label: earmarkLabel(lg, e.Name), Balance: e.Balance})
	}
	if v.Verify, err = l.Verify(c.UserContext(), com.ID); err != nil {
		return err
	}
	ps, err := l.ListProjects(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	titles := make(map[string]string, len(ps))
	for _, p := range ps {
		titles[p.ID] = p.Title
	}
	as, err := l.Accounts(c.UserContext(), s.db, com.ID)
	if err != nil {
		return err
	}
	for _, a := range as {
		v.Accounts = append(v.Accounts, accountRow{Kind: a.Kind, Key: a.Key, Label: accountLabel(s, c, a.Kind, a.Key, titles), Normal: a.Normal, Balance: a.Balance})
	}
	items, next, err := l.Entries(c.UserContext(), s.db, com.ID, f)
	if err != nil {
		return err
	}
	for _, e := range items {
		row := entryRow{Entry: e, KindLabel: s.ui.t(lg, "fund.kind."+e.Kind)}
		if e.RulesVersion != nil {
			row.Rules = "v" + strconv.Itoa(*e.RulesVersion)
		}
		for _, p := range e.Postings {
			pr := postingRow{Account: accountLabel(s, c, p.Kind, p.Key, titles)}
			if p.Amount.IsPositive() {
				pr.Debit = p.Amount
				v.PageDebit = v.PageDebit.Add(p.Amount)
			} else {
				pr.Credit = p.Amount.Neg()
				v.PageCredit = v.PageCredit.Add(pr.Credit)
			}
			row.Lines = append(row.Lines, pr)
		}
		v.Entries = append(v.Entries, row)
	}
	q := url.Values{}
	for _, k := range []string{"from", "to", "kind"} {
		if x := c.Query(k); x != "" {
			q.Set(k, x)
		}
	}
	v.CSVURL = "/api/v1/communities/" + com.ID + "/ledger/entries.csv?" + q.Encode()
	if next != "" {
		q.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(next)))
		v.NextURL = "/admin/" + com.ID + "/fund?" + q.Encode()
	}
	return s.render(c, "fund_ledger", "fund.ledger.title", v)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// accountLabel names an account for people: its kind, and what its key means.
func accountLabel(s *Server, c *fiber.Ctx, kind, key string, titles map[string]string) string {
	lg := lang(c)
	label := s.ui.t(lg, "fund.account."+kind)
	switch kind {
	case fund.KindEarmark:
		return label + " · " + earmarkLabel(lg, key)
	case fund.KindCashDrawer:
		if len(key) > 8 {
			key = key[:8]
		}
		return label + " · " + key
	case fund.KindProject:
		if t, ok := titles[key]; ok {
			return label + " · " + t
		}
		return label
	case "":
		return label
	}
	if key != "" {
		return label + " · " + key
	}
	return label
}
