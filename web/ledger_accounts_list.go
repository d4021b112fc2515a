package web

import (
	"github.com/gofiber/fiber/v2"

	"shelin/fund"
)

// listLedgerAccounts lists the accounts with balances in their normal
// direction (the fund's earmarks as positive money held).
func (s *Server) listLedgerAccounts(c *fiber.Ctx) error {
	as, err := s.fundLedger().Accounts(c.UserContext(), s.db, community(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(page[fund.Account]{Items: as})
}
