package web

import (
	"github.com/gofiber/fiber/v2"
)

// cancelSale is POST {c}/sales/{id}/cancel (awaiting payment only). When the
// provider says the customer has just paid, the sale is confirmed instead
// (committed) and the answer is 409 saying so.
func (s *Server) cancelSale(c *fiber.Ctx) error {
	cid, id, user := community(c).ID, c.Params("id"), currentUser(c)
	sale, err := s.pos.svc.Cancel(c.UserContext(), cid, id, user.ID)
	if err != nil {
		return err
	}
	return c.JSON(s.saleView(sale))
}
