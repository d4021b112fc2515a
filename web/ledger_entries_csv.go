package web

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
)

// exportLedgerCSV writes the entries (with the filters of the list) as CSV,
// one row per posting, UTF-8 with a byte order mark so that Excel and WPS
// open it with the Chinese intact.
func (s *Server) exportLedgerCSV(c *fiber.Ctx) error {
	f, err := entryFilter(c)
	if err != nil {
		return err
	}
	com := community(c)
	loc := com.Location()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"日期时间", "分录号", "类型", "来源", "来源编号", "摘要", "科目", "科目明细", "借方", "贷方", "规则版本", "模拟"})
	f.Limit = 500
	for {
		items, next, err := s.fundLedger().Entries(c.UserContext(), s.db, com.ID, f)
		if err != nil {
			return err
		}
		for _, e := range items {
			rv := ""
			if e.RulesVersion != nil {
				rv = fmt.Sprint(*e.RulesVersion)
			}
			sim := ""
			if e.Simulated {
				sim = "模拟"
			}
			for _, p := range e.Postings {
				debit, credit := "", ""
				if p.Amount.IsPositive() {
					debit = p.Amount.String()
				} else {
					credit = p.Amount.Neg().String()
				}
				w.Write([]string{e.At.In(loc).Format("2006-01-02 15:04:05"), fmt.Sprint(e.Seq), entryKindZH[e.Kind], e.SourceKind,
					e.SourceRef, e.Memo, accountKindZH[p.Kind], accountKeyLabel(p.Kind, p.Key), debit, credit, rv, sim})
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="ledger-`+com.Slug+`.csv"`)
	return c.Send(buf.Bytes())
}

var entryKindZH = map[string]string{
	"proceeds": "销售收益", "reversal": "退款冲回", "commitment": "基金拨付承诺",
	"contribution": "居民募集", "disbursement": "项目支出", "transfer": "资金划转",
}

var accountKindZH = map[string]string{
	fund.KindCashDrawer: "摊位现金", fund.KindProviderClearing: "支付渠道待结算", fund.KindBank: "银行存款",
	fund.KindGroupBuyEscrow: "团购预收款", fund.KindSupplierPayable: "应付供应商", fund.KindMakerPayable: "应付创作者",
	fund.KindProviderFees: "支付手续费", fund.KindEarmark: "基金", fund.KindProject: "项目资金",
	fund.KindContributions: "居民募集款", fund.KindFundDeficit: "基金缺口（核销）",
	fund.KindRefundsPayable: "应退顾客款（暂挂）", fund.KindCashOverShort: "现金长短款", fund.KindCashFloat: "备用金",
}

func accountKeyLabel(kind, key string) string {
	if kind == fund.KindEarmark {
		return earmarkLabel(langZH, key)
	}
	return key
}
