// Package fund is the community governance development fund (社区治理发展基金):
// a double-entry ledger per community, allocation rules, proceeds posting,
// fund lots with tracing in both directions, and co-funded projects.
//
// The ledger is append-only (a database trigger refuses UPDATE and DELETE of
// entries and postings) and every entry balances to zero, checked by a
// deferred constraint trigger at commit. Account balances are kept by a
// trigger on postings, in the same transaction, so they always equal the sum
// of postings; Verify proves it.
//
// Sign convention: a posting's amount is positive for a debit and negative
// for a credit, and an account's stored balance is the sum of its postings.
// Credit-normal accounts (fund earmarks, projects, payables) therefore carry a
// negative stored balance; Account.Balance in this package's results is shown
// in the account's normal direction (positive = money in the fund, etc.).
//
// Write operations take a *sqlx.Tx so that callers compose them with their own
// steps in one transaction (payment confirmed = mark paid + commit stock
// reservation + PostProceeds).
package fund

import (
	"time"

	"github.com/jmoiron/sqlx"

	"shelin/internal/money"
)

// Ledger is the fund service of one database.
type Ledger struct {
	db *sqlx.DB
}

// New returns the fund service.
func New(d *sqlx.DB) *Ledger { return &Ledger{db: d} }

// Source kinds of fund money.
const (
	SourceSale     = "sale"
	SourceGroupBuy = "groupbuy"
	SourceDonation = "donation"
)

// General is the name of the unrestricted earmark. A community that never
// set rules splits everything to it (rules version 0: general 100%).
const General = "general"

// AccountRef names an account by kind and key; accounts are created on first
// use. Use the constructors below.
type AccountRef struct {
	Kind string // one of the Kind* constants
	Key  string // location id, provider, maker name, earmark name, project id, or ""
}

// Account kinds.
const (
	KindCashDrawer       = "cash_drawer"       // key: location (stall) id; debit-normal
	KindProviderClearing = "provider_clearing" // key: provider; debit-normal
	KindBank             = "bank"              // debit-normal
	KindGroupBuyEscrow   = "groupbuy_escrow"   // credit-normal: prepaid joins waiting for settlement
	KindSupplierPayable  = "supplier_payable"  // credit-normal: unit cost owed for goods sold
	KindMakerPayable     = "maker_payable"     // key: maker name; credit-normal: consigned art
	KindProviderFees     = "provider_fees"     // credit-normal: fees the provider withholds
	KindEarmark          = "fund_earmark"      // key: earmark name; credit-normal: uncommitted fund money
	KindProject          = "project"           // key: project id; credit-normal: money a project holds
	KindContributions    = "contributions"     // key: "cash" | "qr"; debit-normal: residents' money collected
	KindFundDeficit      = "fund_deficit"      // debit-normal: refunds of money already spent, and refund losses beyond a line's fund share (the write-off the treasurer sees)
	// KindRefundsPayable is suspense: money received that is owed back to a
	// customer (a payment that could not complete its sale, a refund waiting
	// for the provider's confirmation). Credit-normal.
	KindRefundsPayable = "customer_refunds_payable"
	// KindCashOverShort takes a closed shift's counted-minus-expected cash:
	// debit when the drawer was short, credit when it was over.
	KindCashOverShort = "cash_over_short"
	// KindCashFloat is the petty cash the community office advances to a
	// drawer as its opening float, returned when the shift closes. Credit-normal.
	KindCashFloat = "cash_float"
)

func CashDrawer(locationID string) AccountRef     { return AccountRef{KindCashDrawer, locationID} }
func ProviderClearing(provider string) AccountRef { return AccountRef{KindProviderClearing, provider} }
func Bank() AccountRef                            { return AccountRef{KindBank, ""} }
func GroupBuyEscrow() AccountRef                  { return AccountRef{KindGroupBuyEscrow, ""} }
func SupplierPayable() AccountRef                 { return AccountRef{KindSupplierPayable, ""} }
func MakerPayable(maker string) AccountRef        { return AccountRef{KindMakerPayable, maker} }
func ProviderFees() AccountRef                    { return AccountRef{KindProviderFees, ""} }
func Earmark(name string) AccountRef              { return AccountRef{KindEarmark, name} }
func ProjectAccount(projectID string) AccountRef  { return AccountRef{KindProject, projectID} }
func Contributions(method string) AccountRef      { return AccountRef{KindContributions, method} }
func FundDeficit() AccountRef                     { return AccountRef{KindFundDeficit, ""} }
func RefundsPayable() AccountRef                  { return AccountRef{KindRefundsPayable, ""} }
func CashOverShort() AccountRef                   { return AccountRef{KindCashOverShort, ""} }
func CashFloat() AccountRef                       { return AccountRef{KindCashFloat, ""} }

// MakerPart is one maker's share of consigned goods in a sale.
type MakerPart struct {
	Name   string
	Amount money.Amount
}

// EarmarkPart is the part of a fund amount that went to one earmark.
type EarmarkPart struct {
	Name   string       `json:"name"`
	Amount money.Amount `json:"amount"`
}

// Proceeds is one sale's (or group-buy's, or donation's) money to post.
//
// The entry: debit DebitAccount with Gross; credit the supplier payable with
// SupplierCost, each maker with their part of MakerShare, the provider fees
// account with ProviderFee (withheld by the provider from its settlement), and
// the fund earmarks with the rest, the net proceeds:
//
//	net = Gross − SupplierCost − MakerShare − ProviderFee   (≥ 0, else invalid)
//
// split by the community's current rules (or all to Earmark when set).
type Proceeds struct {
	CommunityID  string
	SourceKind   string // SourceSale | SourceGroupBuy | SourceDonation
	SourceID     string // order id, group-buy join/campaign id, donation id: unique per kind
	SourceRef    string // human reference shown in traces: order number, group-buy title
	DebitAccount AccountRef
	Gross        money.Amount
	SupplierCost money.Amount
	MakerShare   money.Amount
	Makers       []MakerPart // optional breakdown of MakerShare (must sum to it); else one "maker" account
	ProviderFee  money.Amount
	Earmark      string    // optional: put all net proceeds into this earmark (donations for a purpose)
	At           time.Time // zero: now
}

// Posted is the fund's part of one source after posting (and after any
// reversals, when read with SaleFund).
type Posted struct {
	EntryID      string        `json:"entry_id"`
	Net          money.Amount  `json:"net"`
	Earmarks     []EarmarkPart `json:"earmarks"`
	RulesVersion int           `json:"rules_version"`
	Deficit      money.Amount  `json:"deficit"` // refunds that took back money already committed to projects
	// WriteOff is, for a reversal, the loss it booked to fund_deficit beyond
	// the fund's share (goods not returned); for a source, the sum of its
	// reversals' write-offs.
	WriteOff money.Amount `json:"write_off"`
	// TraceToken is the unguessable public token of the page that shows where
	// this money went: link receipts to /t/{TraceToken}. Empty for reversals.
	TraceToken string `json:"trace_token,omitempty"`
}

// Reversal undoes part of a posted source for a refund.
//
// With Parts nil, every credit posting of the original entry gives back its
// share of Gross in proportion to what it still holds (cumulative, so that
// refunding everything reverses everything to the cent): group-buys use it.
// With Parts, the caller names exactly what comes back from each credit (a
// sale's refund: the refunded lines' cost and makers' shares only for units
// returned to stock, their fee and fund shares, and the loss beyond the fund
// share as a write-off).
type Reversal struct {
	CommunityID   string
	SourceKind    string
	SourceID      string
	ReversalID    string // refund id: the same id again returns the first result and writes nothing
	Gross         money.Amount
	CreditAccount AccountRef     // where the refund is paid from; zero value: the original debit account
	Parts         *ReversalParts // nil: pro rata over every credit posting
	At            time.Time
}

// ReversalParts names exactly what a refund takes back from each credit of
// the original entry. Gross = SupplierCost + ΣMakers + ProviderFee + Fund +
// WriteOff, and no part may exceed what its original posting still holds
// after earlier reversals.
type ReversalParts struct {
	SupplierCost money.Amount // cost that comes back (only for units returned to stock)
	Makers       []MakerPart  // makers' shares that come back (only for restocked units), by maker name as posted
	ProviderFee  money.Amount // fee share the provider gives back
	// Fund is taken from the source's fund lots, split over its earmark lots
	// by what each still holds (largest remainder); a lot whose money is
	// already committed to projects records the shortfall as deficit on
	// fund_deficit.
	Fund money.Amount
	// WriteOff is the loss beyond the line's fund share (goods not returned,
	// their cost still payable): debited to the fund_deficit account, visible
	// to the treasurer and recorded on the reversal.
	WriteOff money.Amount
}
