package web

import (
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/fund"
)

// listLedgerEntries lists entries newest first with their postings;
// ?from=&to= (dates or RFC 3339), ?kind=, ?limit=, ?cursor=.
func (s *Server) listLedgerEntries(c *fiber.Ctx) error {
	f, err := entryFilter(c)
	if err != nil {
		return err
	}
	items, next, err := s.fundLedger().Entries(c.UserContext(), s.db, community(c).ID, f)
	if err != nil {
		return err
	}
	p := page[fund.Entry]{Items: items}
	if next != "" {
		cur := base64.RawURLEncoding.EncodeToString([]byte(next))
		p.NextCursor = &cur
	}
	return c.JSON(p)
}

func entryFilter(c *fiber.Ctx) (fund.EntryFilter, error) {
	var f fund.EntryFilter
	var err error
	if f.From, err = parseDay(c, "from", false); err != nil {
		return f, err
	}
	if f.To, err = parseDay(c, "to", true); err != nil {
		return f, err
	}
	if f.Limit, f.Cursor, err = listParams(c); err != nil {
		return f, err
	}
	f.Kind = strings.Clone(c.Query("kind"))
	return f, nil
}
