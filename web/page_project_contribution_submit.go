package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"

	"shelin/fund"
	"shelin/internal/money"
)

// pageProjectContributionSubmit records residents' money from the project
// page (cash with the paper receipt's number, or QR), once per form.
func (s *Server) pageProjectContributionSubmit(c *fiber.Ctx) error {
	amount, err := money.ParsePositive("amount", strings.TrimSpace(c.FormValue("amount")))
	if err != nil {
		return s.projectFormError(c, err)
	}
	in := fund.ContributionInput{Amount: amount, Method: strings.Clone(c.FormValue("method")),
		Contributor: strings.Clone(strings.TrimSpace(c.FormValue("contributor"))), ReceiptNo: strings.Clone(strings.TrimSpace(c.FormValue("receipt_no"))),
		CollectedBy: currentUser(c).ID}
	cid, pid := community(c).ID, param(c, "id")
	err = s.formOnce(c, func(tx *sqlx.Tx) error {
		_, _, err := s.fundLedger().Contribute(c.UserContext(), tx, cid, pid, in)
		return err
	})
	if err != nil {
		return s.projectFormError(c, err)
	}
	return c.Redirect("/admin/"+cid+"/projects/"+pid, fiber.StatusSeeOther)
}
