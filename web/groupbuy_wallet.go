package web

import (
	"context"

	"shelin/groupbuy"
	"shelin/orders"
	"shelin/pos"
)

// groupBuyWalletReceipt is what the sandbox wallet page shows for a
// group-buy join's payment (a join has no stall receipt): the campaign, the
// line, the fund share, and a way back to the neighbour's join page. ok is
// false for any other payment.
func (s *Server) groupBuyWalletReceipt(ctx context.Context, p *orders.Payment) (*pos.Receipt, bool, error) {
	o, err := orders.Get(ctx, s.db, p.CommunityID, p.OrderID)
	if err != nil {
		return nil, false, err
	}
	if o.Channel != groupbuy.Channel {
		return nil, false, nil
	}
	j, err := s.gb.JoinOfOrder(ctx, s.db, o.ID)
	if err != nil {
		return nil, false, err
	}
	camp, err := s.gb.CampaignOfID(ctx, s.db, j.CampaignID)
	if err != nil {
		return nil, false, err
	}
	com, err := s.ids.Community(ctx, o.CommunityID)
	if err != nil {
		return nil, false, err
	}
	r := &pos.Receipt{Number: o.Number, Stall: camp.Title, Total: o.Total, Community: com.Name, CommunitySlug: com.Slug,
		Status: o.Status, URL: s.gbURL(camp.Token, "j", j.Token), OrderID: o.ID, CommunityID: o.CommunityID, Zone: com.Location()}
	for _, l := range o.Lines {
		r.Lines = append(r.Lines, pos.ReceiptLine{Name: l.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: l.NetAmount})
		r.Fund.Amount = r.Fund.Amount.Add(l.FundAmount)
	}
	return r, true, nil
}
