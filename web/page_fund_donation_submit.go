package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/money"
)

// pageFundDonationSubmit records a donation from the ledger page (once per
// form); the money becomes a lot like any sale's.
func (s *Server) pageFundDonationSubmit(c *fiber.Ctx) error {
	com := community(c)
	back := "/admin/" + com.ID + "/fund"
	amount, err := money.ParsePositive("amount", strings.TrimSpace(c.FormValue("amount")))
	if err != nil {
		return s.donationError(c, err)
	}
	donor := strings.Clone(strings.TrimSpace(c.FormValue("donor")))
	debit := fund.Bank()
	if c.FormValue("method") == "cash" {
		debit = fund.Contributions("cash")
	}
	ref := "捐赠"
	if donor != "" {
		ref += " · " + donor
	}
	p := fund.Proceeds{CommunityID: com.ID, SourceKind: fund.SourceDonation, SourceID: "donation-form-" + strings.Clone(c.FormValue("_idem")),
		SourceRef: ref, DebitAccount: debit, Gross: amount, Earmark: strings.Clone(c.FormValue("earmark"))}
	if p.Earmark == fund.General {
		p.Earmark = ""
	}
	err = s.formOnce(c, func(tx *sqlx.Tx) error {
		_, err := s.fundLedger().PostProceeds(c.UserContext(), tx, p)
		return err
	})
	if err != nil {
		return s.donationError(c, err)
	}
	return c.Redirect(back+"?donated=1", fiber.StatusSeeOther)
}

func (s *Server) donationError(c *fiber.Ctx, err error) error {
	if e, ok := apperrOf(err); ok {
		return c.Redirect("/admin/"+community(c).ID+"/fund?error="+urlQueryEscape(e.Message), fiber.StatusSeeOther)
	}
	return err
}
