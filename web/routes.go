package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shelin/identity"
	"shelin/internal/apperr"
)

// route is one entry of the route table. Allow lists the roles that may call
// it; a nil Allow means public (no sign-in). platform_admin may call every
// signed-in route. Paths with :cid are scoped to one community: a user of
// another community gets 404, as if it did not exist.
type route struct {
	Method  string
	Path    string
	Allow   []identity.Role
	Summary string
	Handler fiber.Handler
	Page    bool // an HTML page or asset, not part of the JSON API
}

var (
	public      []identity.Role
	anyone      = []identity.Role{identity.Admin, identity.Treasurer, identity.Volunteer, identity.Leader}
	admins      = []identity.Role{identity.Admin}
	platform    = []identity.Role{identity.PlatformAdmin}
	managers    = []identity.Role{identity.Admin, identity.Treasurer}
	stallStaff  = []identity.Role{identity.Admin, identity.Volunteer}
	fundReaders = []identity.Role{identity.Admin, identity.Treasurer, identity.Leader}
	leaders     = []identity.Role{identity.Admin, identity.Leader}
	gbReaders   = []identity.Role{identity.Admin, identity.Leader, identity.Treasurer}
	approvers   = []identity.Role{identity.Admin, identity.Volunteer, identity.Treasurer} // stall staff and managers
)

// routes is the whole HTTP surface. Keep each area's routes in its block.
func (s *Server) routes() []route {
	return []route{
		// --- service ---
		{"GET", "/healthz", public, "Liveness", s.healthz, false},
		{"GET", "/readyz", public, "Readiness: database reachable and schema current", s.readyz, false},
		{"GET", "/metrics", public, "Prometheus metrics", s.metrics, false},
		{"GET", "/api/v1/openapi.json", public, "This API as OpenAPI 3", s.openapi, false},

		// --- identity ---
		{"POST", "/api/v1/sessions", public, "Sign in with login and password", s.createSession, false},
		{"DELETE", "/api/v1/sessions/current", anyone, "Sign out", s.deleteSession, false},
		{"GET", "/api/v1/me", anyone, "The signed-in user", s.getMe, false},
		{"POST", "/api/v1/communities", platform, "Create a community", s.createCommunity, false},
		{"GET", "/api/v1/communities", platform, "List communities", s.listCommunities, false},
		{"GET", "/api/v1/communities/:cid", anyone, "One community", s.getCommunity, false},
		{"POST", "/api/v1/communities/:cid/users", admins, "Create a user", s.createUser, false},
		{"GET", "/api/v1/communities/:cid/users", admins, "List users", s.listUsers, false},
		{"POST", "/api/v1/communities/:cid/grids", admins, "Create a grid", s.createGrid, false},
		{"GET", "/api/v1/communities/:cid/grids", anyone, "List grids", s.listGrids, false},
		{"POST", "/api/v1/communities/:cid/micro-grids", admins, "Create a micro-grid with its 邻长", s.createMicroGrid, false},
		{"GET", "/api/v1/communities/:cid/micro-grids", anyone, "List micro-grids", s.listMicroGrids, false},

		// --- pages: shell ---
		{"GET", "/", public, "Home page for the signed-in role", s.pageHome, true},
		{"GET", "/login", public, "Sign-in page", s.pageLogin, true},
		{"POST", "/login", public, "Sign in from the page", s.pageLoginSubmit, true},
		{"POST", "/logout", anyone, "Sign out from the page", s.pageLogout, true},
		{"GET", "/lang/:lang", public, "Switch the language (zh or en)", s.pageLang, true},
		{"GET", "/static/:hash/*", public, "Embedded static files at content-hashed URLs", s.static, true},
		{"GET", "/platform", platform, "Communities page with the new-community form", s.pagePlatform, true},
		{"POST", "/platform", platform, "Create a community and its first admin from the page", s.pagePlatformSubmit, true},
		{"GET", "/admin/:cid/people", admins, "People page: users and the new-person form", s.pagePeople, true},
		{"POST", "/admin/:cid/people", admins, "Add a person from the page", s.pagePeopleSubmit, true},

		// --- inventory ---
		{"POST", "/api/v1/communities/:cid/products", admins, "Create a product (a SKU; variants share group_name)", s.createProduct, false},
		{"GET", "/api/v1/communities/:cid/products", anyone, "List products, variants together", s.listProducts, false},
		{"GET", "/api/v1/communities/:cid/products/:id", anyone, "One product", s.getProduct, false},
		{"PATCH", "/api/v1/communities/:cid/products/:id", admins, "Change a product (price changes are kept in its history)", s.updateProduct, false},
		{"PUT", "/api/v1/communities/:cid/products/:id/image", admins, "Upload a product picture (multipart image; resized to 800 px)", s.uploadProductImage, false},
		{"GET", "/api/v1/communities/:cid/products/:id/prices", anyone, "A product's price, cost and maker-share history", s.listProductPrices, false},
		{"GET", "/img/:hash", public, "A product picture by content hash", s.getImage, false},
		{"POST", "/api/v1/communities/:cid/locations", admins, "Create a store or a stall", s.createLocation, false},
		{"GET", "/api/v1/communities/:cid/locations", anyone, "List stores and stalls", s.listLocations, false},
		{"POST", "/api/v1/communities/:cid/stock/receipts", stallStaff, "Receive stock at a location (Idempotency-Key)", s.createStockReceipt, false},
		{"POST", "/api/v1/communities/:cid/stock/transfers", stallStaff, "Move stock between locations (Idempotency-Key)", s.createStockTransfer, false},
		{"POST", "/api/v1/communities/:cid/stock/counts", stallStaff, "Count stock; differences become adjustments (Idempotency-Key)", s.createStockCount, false},
		{"POST", "/api/v1/communities/:cid/stock/stall-returns", stallStaff, "Evening: count a stall and carry the rest back to the store (Idempotency-Key)", s.closeStall, false},
		{"POST", "/api/v1/communities/:cid/stock/write-offs", stallStaff, "Write off spoiled, expired or broken stock (Idempotency-Key)", s.createWriteOff, false},
		{"GET", "/api/v1/communities/:cid/stock", anyone, "Stock levels: on hand, reserved, available", s.listStock, false},
		{"GET", "/api/v1/communities/:cid/stock/movements", anyone, "The append-only stock log, newest first", s.listStockMovements, false},
		{"GET", "/api/v1/communities/:cid/stock/low", anyone, "Stock at or under its low-stock threshold", s.listLowStock, false},
		{"PUT", "/api/v1/communities/:cid/stock/thresholds", admins, "Set a low-stock threshold", s.setStockThreshold, false},
		{"GET", "/api/v1/communities/:cid/stock/lots", anyone, "Lots with best-before dates at a location", s.listStockLots, false},
		{"GET", "/admin/:cid/products", admins, "Products page: catalogue and new product", s.pageProducts, true},
		{"POST", "/admin/:cid/products", admins, "Create a product from the page", s.pageProductCreate, true},
		{"GET", "/admin/:cid/products/:id", admins, "Product page: edit, picture, price history", s.pageProductEdit, true},
		{"POST", "/admin/:cid/products/:id", admins, "Save a product from the page", s.pageProductUpdate, true},
		{"POST", "/admin/:cid/products/:id/image", admins, "Upload a product picture from the page", s.pageProductImage, true},
		{"GET", "/admin/:cid/stock", stallStaff, "Stock page: levels by location, lots, low stock", s.pageStock, true},
		{"GET", "/admin/:cid/stock/receive", stallStaff, "Receive form", s.pageStockReceive, true},
		{"POST", "/admin/:cid/stock/receive", stallStaff, "Book a receipt from the page", s.pageStockReceiveSubmit, true},
		{"GET", "/admin/:cid/stock/transfer", stallStaff, "Transfer form (centre to stall and back)", s.pageStockTransfer, true},
		{"POST", "/admin/:cid/stock/transfer", stallStaff, "Book a transfer from the page", s.pageStockTransferSubmit, true},
		{"GET", "/admin/:cid/stock/count", stallStaff, "Count sheet (with the evening return at a stall)", s.pageStockCount, true},
		{"POST", "/admin/:cid/stock/count", stallStaff, "Book a count from the page", s.pageStockCountSubmit, true},
		{"GET", "/admin/:cid/stock/movements", stallStaff, "Stock log page", s.pageStockMovements, true},
		{"POST", "/admin/:cid/stock/write-off-expired", stallStaff, "Write off every expired lot at a location from the page", s.pageStockWriteOffExpired, true},
		{"POST", "/admin/:cid/stock/threshold", admins, "Set a low-stock threshold from the page", s.pageStockThreshold, true},

		// --- fund ---
		{"GET", "/api/v1/communities/:cid/fund", fundReaders, "The fund: balance, available, committed, earmarks, totals", s.getFund, false},
		{"GET", "/api/v1/communities/:cid/fund/rules", fundReaders, "Allocation rules in force (version 0: general 100%)", s.getFundRules, false},
		{"PUT", "/api/v1/communities/:cid/fund/rules", fundApprovers, "Set allocation rules (percents sum to 100; versioned)", s.putFundRules, false},
		{"GET", "/api/v1/communities/:cid/ledger/entries", fundManagers, "Ledger entries with postings (from, to, kind, limit, cursor)", s.listLedgerEntries, false},
		{"GET", "/api/v1/communities/:cid/ledger/entries.csv", fundManagers, "Ledger entries as CSV (UTF-8 with BOM)", s.exportLedgerCSV, false},
		{"GET", "/api/v1/communities/:cid/ledger/accounts", fundManagers, "Ledger accounts and balances", s.listLedgerAccounts, false},
		{"GET", "/api/v1/communities/:cid/ledger/verify", fundManagers, "Verify the whole system: ledger, stock, and every sale's money and stock against the ledger", s.verifyLedger, false},
		{"POST", "/api/v1/communities/:cid/projects", projectProposers, "Propose a project (budget, fund share, micro-grid)", s.createProject, false},
		{"GET", "/api/v1/communities/:cid/projects", anyone, "List projects", s.listProjects, false},
		{"GET", "/api/v1/communities/:cid/projects/:id", anyone, "One project and where its money stands", s.getProject, false},
		{"PATCH", "/api/v1/communities/:cid/projects/:id", projectProposers, "Change a proposal (until it is approved)", s.updateProject, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/approve", fundApprovers, "Approve: the fund commits its share from its lots (409 if it cannot)", s.approveProject, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/reject", fundApprovers, "Reject a proposal", s.rejectProject, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/complete", projectHelpers, "Complete a project with the number of residents benefited", s.completeProject, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/contributions", projectHelpers, "Record residents' contribution (cash or QR) (Idempotency-Key)", s.createContribution, false},
		{"GET", "/api/v1/communities/:cid/projects/:id/contributions", projectHelpers, "A project's contributions", s.listContributions, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/contributions/:kid/refund", fundManagers, "Give a contribution back (project rejected or not yet approved; idempotent)", s.refundContribution, false},
		{"POST", "/api/v1/communities/:cid/projects/:id/disbursements", fundManagers, "Pay project money to a payee (Idempotency-Key)", s.createDisbursement, false},
		{"GET", "/api/v1/communities/:cid/projects/:id/disbursements", fundReaders, "A project's disbursements", s.listDisbursements, false},
		{"PUT", "/api/v1/communities/:cid/disbursements/:id/voucher", fundManagers, "Upload a disbursement's voucher photo (multipart image)", s.putVoucher, false},
		{"GET", "/api/v1/communities/:cid/disbursements/:id/voucher", fundReaders, "A disbursement's voucher photo", s.getVoucher, false},
		{"POST", "/api/v1/communities/:cid/donations", fundManagers, "Record a donation to the fund (Idempotency-Key)", s.createDonation, false},
		{"GET", "/api/v1/communities/:cid/trace/sales/:id", anyone, "Trace a sale's fund money to lots and projects", s.traceSale, false},
		{"GET", "/api/v1/communities/:cid/trace/projects/:id", anyone, "Trace a project's fund part back to its sources", s.traceProject, false},
		{"GET", "/api/v1/public/:slug/fund", public, "Public transparency data of a community's fund", s.getPublicFund, false},
		{"GET", "/c/:slug", public, "The public transparency page of a community's fund", s.pageTransparency, true},
		{"GET", "/t/:token", public, "Where a receipt's money went (public trace page)", s.pageTrace, true},
		{"GET", "/admin/:cid/fund", fundManagers, "Fund ledger page: balances, verification, entries with filters", s.pageFundLedger, true},
		{"GET", "/admin/:cid/fund/rules", fundReaders, "Allocation rules page", s.pageFundRules, true},
		{"POST", "/admin/:cid/fund/rules", fundApprovers, "Save allocation rules from the page", s.pageFundRulesSubmit, true},
		{"POST", "/admin/:cid/fund/donations", fundManagers, "Record a donation from the ledger page", s.pageFundDonationSubmit, true},
		{"GET", "/admin/:cid/projects", fundReaders, "Projects page with the proposal form", s.pageFundProjects, true},
		{"POST", "/admin/:cid/projects", projectProposers, "Propose a project from the page", s.pageProjectCreateSubmit, true},
		{"GET", "/admin/:cid/projects/:id", fundReaders, "One project's page", s.pageFundProject, true},
		{"POST", "/admin/:cid/projects/:id/approve", fundApprovers, "Approve a project from its page", s.pageProjectApproveSubmit, true},
		{"POST", "/admin/:cid/projects/:id/reject", fundApprovers, "Reject a project from its page", s.pageProjectRejectSubmit, true},
		{"POST", "/admin/:cid/projects/:id/complete", projectHelpers, "Complete a project from its page", s.pageProjectCompleteSubmit, true},
		{"POST", "/admin/:cid/projects/:id/contributions", projectHelpers, "Record a contribution from the project page", s.pageProjectContributionSubmit, true},
		{"POST", "/admin/:cid/projects/:id/disbursements", fundManagers, "Record a payment with its voucher from the project page", s.pageProjectDisbursementSubmit, true},

		// --- orders / pos ---
		{"POST", "/api/v1/communities/:cid/stalls", admins, "Set a stall location up for selling, with its order-number prefix", s.createStall, false},
		{"GET", "/api/v1/communities/:cid/stalls", anyone, "List stalls", s.listStalls, false},
		{"POST", "/api/v1/communities/:cid/devices", admins, "Register a tablet for a stall and get its pairing code", s.createDevice, false},
		{"GET", "/api/v1/communities/:cid/devices", admins, "List tablets", s.listDevices, false},
		{"POST", "/api/v1/communities/:cid/devices/:id/revoke", admins, "Unpair a tablet", s.revokeDevice, false},
		{"POST", "/api/v1/pos/pair", public, "Pair a tablet with its pairing code (returns the device credential)", s.pairDevice, false},
		{"GET", "/api/v1/pos/device", public, "The paired tablet's stall and the people who can sign in (device credential)", s.getDevice, false},
		{"POST", "/api/v1/pos/pin-login", public, "Volunteer PIN sign-in on a paired tablet", s.pinLogin, false},
		{"GET", "/api/v1/communities/:cid/pos/catalog", stallStaff, "Product tiles of a stall with stock left", s.posCatalog, false},
		{"GET", "/api/v1/communities/:cid/pos/images/:hash", stallStaff, "Product picture for the tablet", s.posImage, false},
		{"POST", "/api/v1/communities/:cid/shifts", stallStaff, "Open a shift with a cash float", s.openShift, false},
		{"GET", "/api/v1/communities/:cid/shifts/current", stallStaff, "The open shift of a stall and its drawer", s.currentShift, false},
		{"POST", "/api/v1/communities/:cid/shifts/:id/close", stallStaff, "Close a shift with the counted cash (optionally hand over)", s.closeShift, false},
		{"POST", "/api/v1/communities/:cid/approvals", approvers, "A second person's PIN for a discount or refund, exchanged for a single-use approval token (10 minutes)", s.createApproval, false},
		{"POST", "/api/v1/communities/:cid/sales", stallStaff, "Sell at a stall (idempotent): order, stock reservation and payment", s.createSale, false},
		{"GET", "/api/v1/communities/:cid/sales", anyone, "Recent sales", s.listSales, false},
		{"GET", "/api/v1/communities/:cid/sales/:id", anyone, "One sale", s.getSale, false},
		{"GET", "/api/v1/communities/:cid/sales/:id/events", stallStaff, "Server-Sent Events of a sale's status", s.saleEvents, false},
		{"GET", "/api/v1/communities/:cid/sales/:id/qr.svg", stallStaff, "The sale's payment QR code (SVG)", s.saleQR, false},
		{"GET", "/api/v1/communities/:cid/sales/:id/qr.png", stallStaff, "The sale's payment QR code (PNG)", s.saleQR, false},
		{"GET", "/api/v1/communities/:cid/sales/:id/receipt-qr.svg", stallStaff, "QR code of the sale's e-receipt", s.saleReceiptQR, false},
		{"GET", "/api/v1/communities/:cid/sales/:id/receipt.escpos", stallStaff, "The receipt as ESC/POS bytes for a 58 mm printer", s.saleReceiptESCPOS, false},
		{"POST", "/api/v1/communities/:cid/sales/:id/cancel", stallStaff, "Cancel a sale awaiting payment", s.cancelSale, false},
		{"POST", "/api/v1/communities/:cid/sales/:id/confirm-static", stallStaff, "Confirm a static-QR payment arrived", s.confirmStaticSale, false},
		{"POST", "/api/v1/communities/:cid/sales/:id/refunds", stallStaff, "Refund lines of a sale (idempotent, second person's PIN)", s.createRefund, false},
		{"GET", "/api/v1/communities/:cid/suspense", managers, "Money held in suspense (payments that could not complete a sale) and sales stuck awaiting payment", s.listSuspense, false},
		{"POST", "/api/v1/communities/:cid/suspense/:id/refund", managers, "Refund held money to the customer through its provider (Idempotency-Key)", s.refundSuspense, false},
		{"POST", "/api/v1/communities/:cid/suspense/:id/complete", managers, "Complete the sale of held money when its stock allows (Idempotency-Key)", s.completeSuspense, false},
		{"PUT", "/api/v1/communities/:cid/payment-settings/static", admins, "Upload the community's fixed 收款码 (multipart image)", s.putStaticQR, false},
		{"GET", "/api/v1/communities/:cid/payment-settings/static", stallStaff, "The community's fixed 收款码 image", s.getStaticQR, false},
		{"GET", "/api/v1/communities/:cid/payment-settings", admins, "WeChat Pay and Alipay accounts (identifiers only, never secrets) and the webhook URLs", s.listPaymentSettings, false},
		{"PUT", "/api/v1/communities/:cid/payment-settings/wechatpay", admins, "Set the WeChat Pay v3 merchant account (stored encrypted, never shown again)", s.putWeChatSettings, false},
		{"PUT", "/api/v1/communities/:cid/payment-settings/alipay", admins, "Set the Alipay 当面付 app (stored encrypted, never shown again)", s.putAlipaySettings, false},
		{"POST", "/api/v1/communities/:cid/payment-settings/:provider/test", admins, "Test connection: a signed query the provider must answer", s.testPaymentSettings, false},
		{"GET", "/api/v1/communities/:cid/pos/providers", stallStaff, "QR providers the tablet can offer here", s.posProviders, false},
		{"GET", "/admin/:cid/payments", admins, "Payment settings page: WeChat Pay and Alipay accounts with test connection", s.pagePayments, true},
		{"POST", "/admin/:cid/payments/wechatpay", admins, "Save the WeChat Pay account from the page", s.pagePaymentsWeChat, true},
		{"POST", "/admin/:cid/payments/alipay", admins, "Save the Alipay app from the page", s.pagePaymentsAlipay, true},
		{"POST", "/admin/:cid/payments/:provider/test", admins, "Test connection from the page", s.pagePaymentsTest, true},
		{"POST", "/api/v1/webhooks/sandbox", public, "Sandbox provider notifications (signed)", s.sandboxOnly(s.sandboxWebhook), false},
		{"POST", "/api/v1/webhooks/wechatpay", public, "WeChat Pay v3 payment and refund notifications (signed, encrypted)", s.wechatpayWebhook, false},
		{"POST", "/api/v1/webhooks/alipay", public, "Alipay asynchronous notifications (RSA2-signed form)", s.alipayWebhook, false},
		{"GET", "/api/v1/receipts/:token", public, "A receipt (public token)", s.getReceipt, false},
		{"GET", "/r/:token", public, "Receipt page (phone and 58 mm print)", s.pageReceipt, true},
		{"GET", "/pay/:token", public, "Sandbox wallet page (simulation)", s.sandboxOnly(s.pagePay), true},
		{"POST", "/pay/:token", public, "Pay in the sandbox wallet (simulation)", s.sandboxOnly(s.pagePaySubmit), true},
		{"GET", "/pos", public, "The stall tablet app", s.pageTablet, true},
		{"GET", "/admin/:cid/pos", admins, "Stalls and tablets page: prefixes, pairing codes, 收款码, flagged payments", s.pagePOSAdmin, true},
		{"POST", "/admin/:cid/pos/stalls", admins, "Set a stall's order prefix from the page", s.pagePOSAdminStall, true},
		{"POST", "/admin/:cid/pos/devices", admins, "Make a tablet pairing code from the page", s.pagePOSAdminDevice, true},
		{"GET", "/admin/:cid/suspense", managers, "Held money page: payments that could not complete a sale, with refund and complete", s.pageSuspense, true},
		{"POST", "/admin/:cid/suspense/:id", managers, "Refund held money or complete its sale from the page", s.pageSuspenseAction, true},
		{"POST", "/admin/:cid/pos/static", admins, "Upload the 收款码 from the page", s.pagePOSAdminStatic, true},

		// --- reconcile ---
		{"GET", "/api/v1/communities/:cid/days", managers, "Calendar of business days with status and totals (from, to)", s.listDays, false},
		{"GET", "/api/v1/communities/:cid/days/:date", managers, "One business day: sales, refunds, fund inflow, shifts, statements, issues", s.getDay, false},
		{"POST", "/api/v1/communities/:cid/days/:date/issues", managers, "Resolve or acknowledge one of the day's issues (with an adjustment entry when money moved)", s.resolveIssue, false},
		{"POST", "/api/v1/communities/:cid/days/:date/close", managers, "Close the day: shifts closed, issues resolved; writes dated that day then answer 409 day_closed", s.closeDay, false},
		{"POST", "/api/v1/communities/:cid/days/:date/reopen", admins, "Reopen a closed day with a reason (audited)", s.reopenDay, false},
		{"GET", "/api/v1/communities/:cid/days/:date/report.csv", managers, "The day as CSV (UTF-8 with BOM)", s.dayReportCSV, false},
		{"GET", "/api/v1/communities/:cid/days/:date/z-report", managers, "The day's Z-report, printable (A4 or ?paper=58mm; ?format=json)", s.getZReport, false},
		{"GET", "/api/v1/communities/:cid/z-reports/verify", managers, "Check the Z-report hash chain", s.verifyZChain, false},
		{"POST", "/api/v1/communities/:cid/statements", managers, "Upload a provider statement (multipart file + provider: wechatpay, alipay, sandbox)", s.createStatement, false},
		{"POST", "/api/v1/communities/:cid/statements/sandbox", managers, "Download and import the sandbox provider's statement of a day (simulation)", s.sandboxOnly(s.downloadSandboxStatement), false},
		{"POST", "/api/v1/communities/:cid/statements/:id/rows/:line/static-match", managers, "Tick a 收款码 sale off against an unmatched statement row", s.matchStaticSale, false},
		{"GET", "/admin/:cid/days", managers, "Treasurer's calendar of days with charts", s.pageDays, true},
		{"GET", "/admin/:cid/days/:date", managers, "The day page: totals, issues, shifts, statements, close", s.pageDay, true},
		{"POST", "/admin/:cid/days/:date", managers, "Import a statement, resolve an issue, tick off a 收款码 sale or close the day from the page", s.pageDayAction, true},
		{"GET", "/admin/:cid/days/:date/z-report", managers, "Printable Z-report (A4 or ?paper=58mm)", s.getZReport, true},

		// --- groupbuy ---
		{"POST", "/api/v1/communities/:cid/groupbuys", leaders, "Open a group-buy (社邻益购) campaign", s.createGroupBuy, false},
		{"GET", "/api/v1/communities/:cid/groupbuys", gbReaders, "Group-buy campaigns (a 邻长's own)", s.listGroupBuys, false},
		{"GET", "/api/v1/communities/:cid/groupbuys/:id", gbReaders, "One group-buy with its figures", s.getGroupBuy, false},
		{"GET", "/api/v1/communities/:cid/groupbuys/:id/joins", gbReaders, "A group-buy's joins (phones masked)", s.listGroupBuyJoins, false},
		{"GET", "/api/v1/communities/:cid/groupbuys/:id/checklist.csv", gbReaders, "Pickup checklist by building (CSV)", s.groupBuyChecklistCSV, false},
		{"POST", "/api/v1/communities/:cid/groupbuys/:id/settle", leaders, "Settle a group-buy now (once)", s.settleGroupBuy, false},
		{"POST", "/api/v1/communities/:cid/groupbuys/:id/cancel", leaders, "Close a group-buy now and refund every paid join (once)", s.cancelGroupBuy, false},
		{"POST", "/api/v1/communities/:cid/groupbuys/:id/proxy-joins", leaders, "Record a neighbour who paid the 邻长 in cash (idempotent)", s.createProxyJoin, false},
		{"POST", "/api/v1/communities/:cid/groupbuys/:id/pickups", leaders, "Verify a pickup code (works once)", s.pickupGroupBuy, false},
		{"GET", "/api/v1/groupbuys/:token", public, "A group-buy's deal and live progress (public link)", s.getPublicGroupBuy, false},
		{"POST", "/api/v1/groupbuys/:token/joins", public, "Join a group-buy and get a payment (idempotent, no sign-in)", s.createGroupBuyJoin, false},
		{"GET", "/api/v1/groupbuys/:token/joins/:jtoken", public, "A neighbour's own join, with its pickup code once paid", s.getGroupBuyJoin, false},
		{"GET", "/g/:token", public, "Group-buy join page (phone)", s.pageGroupBuyJoin, true},
		{"POST", "/g/:token", public, "Join a group-buy from the join page's form", s.pageGroupBuyJoinSubmit, true},
		{"GET", "/g/:token/poster", public, "Group-buy poster (A4, shareable)", s.pageGroupBuyPoster, true},
		{"GET", "/g/:token/qr.svg", public, "QR code of a group-buy's join link", s.groupBuyJoinQR, true},
		{"GET", "/g/:token/j/:jtoken", public, "A neighbour's join: pay, then the pickup code", s.pageGroupBuyMine, true},
		{"GET", "/g/:token/j/:jtoken/pickup.svg", public, "QR code of a join's pickup code", s.groupBuyPickupQR, true},
		{"GET", "/g/:token/j/:jtoken/pay.svg", public, "QR code of a join's payment", s.groupBuyPayQR, true},
		{"GET", "/admin/:cid/groupbuys", gbReaders, "My group-buys (邻长): list and create", s.pageGroupBuys, true},
		{"POST", "/admin/:cid/groupbuys", leaders, "Create a group-buy from the page", s.pageGroupBuyCreate, true},
		{"GET", "/admin/:cid/groupbuys/:id", gbReaders, "One group-buy: joins, settle, pickups, checklist", s.pageGroupBuy, true},
		{"POST", "/admin/:cid/groupbuys/:id/settle", leaders, "Settle a group-buy from the page", s.pageGroupBuySettle, true},
		{"POST", "/admin/:cid/groupbuys/:id/proxy", leaders, "Record a cash join for a neighbour from the page", s.pageGroupBuyProxy, true},
		{"POST", "/admin/:cid/groupbuys/:id/pickup", leaders, "Verify a pickup code from the page", s.pageGroupBuyPickup, true},
	}
}

// mount registers every route with its access rule.
func (s *Server) mount(app *fiber.App) {
	for _, r := range s.routes() {
		app.Add(r.Method, r.Path, s.handlers(r)...)
		if alsoHEAD(r) {
			app.Add(fiber.MethodHead, r.Path, s.handlers(r)...)
		}
	}
	app.Use(func(c *fiber.Ctx) error { return apperr.NotFoundf("no such page") })
}

// guard enforces a route's Allow list and community scope.
func (s *Server) guard(r route) fiber.Handler {
	scoped := strings.Contains(r.Path, ":cid")
	return func(c *fiber.Ctx) error {
		if r.Allow == nil {
			return c.Next()
		}
		sess, ok := session(c)
		if !ok {
			if r.Page {
				return c.Redirect("/login")
			}
			return apperr.New(apperr.Unauthorized, "sign in first")
		}
		u := sess.User
		if scoped {
			cid := c.Params("cid")
			if !u.CanSee(cid) {
				return apperr.NotFoundf("community not found")
			}
			com, err := s.ids.Community(c.UserContext(), cid)
			if err != nil {
				return err
			}
			c.Locals("community", com)
		}
		if sess.PIN() && !pinAllowed(r) {
			return s.passwordNeeded(c)
		}
		if u.Role == identity.PlatformAdmin || hasRole(r.Allow, u.Role) {
			if err := c.Next(); err != nil {
				return err
			}
			s.auditWrite(c, r)
			return nil
		}
		return apperr.New(apperr.Forbidden, "your role (%s) may not do this", u.Role)
	}
}

func hasRole(rs []identity.Role, r identity.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// community returns the community of a :cid route (set by guard).
func community(c *fiber.Ctx) identity.Community {
	com, _ := c.Locals("community").(identity.Community)
	return com
}
