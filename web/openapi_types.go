package web

import (
	"time"

	"shelin/fund"
	"shelin/identity"
	"shelin/inventory"
	"shelin/pos"
)

// apiType gives the Go types of a route's request and response bodies for
// the OpenAPI document. Keys are "METHOD path" exactly as in the route
// table; a route not listed is still described (path, parameters, roles,
// error responses) with a generic body. TestOpenAPIResponsesMatchTheirSchemas
// validates real responses of the core flows against these schemas, so a
// handler that changes its body without changing its type here fails.
type apiType struct {
	In, Out     any      // request and response body (nil: none or not described)
	Status      int      // success status; default 200 (201 for POST)
	Idem        bool     // takes Idempotency-Key
	Query       []string // query parameters
	Multipart   bool     // request is multipart/form-data
	ContentType string   // success response that is not JSON
}

// Bodies that handlers declare inline, named here for the document.
type (
	signInRequest struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	sessionCreated struct {
		Token     string      `json:"token"`
		User      sessionUser `json:"user"`
		ExpiresAt time.Time   `json:"expires_at"`
	}
	locationCreateRequest struct {
		Name string `json:"name"`
		Kind string `json:"kind"` // store | stall
	}
	healthBody struct {
		OK      bool   `json:"ok"`
		Version string `json:"version"`
	}
	readyBody struct {
		OK      bool   `json:"ok"`
		Reason  string `json:"reason,omitempty"`
		Pending int    `json:"pending,omitempty"`
	}
)

var apiTypes = map[string]apiType{
	"GET /healthz":             {Out: healthBody{}},
	"GET /readyz":              {Out: readyBody{}},
	"GET /metrics":             {ContentType: "text/plain"},
	"GET /api/v1/openapi.json": {Out: map[string]any{}},

	"POST /api/v1/sessions":                  {In: signInRequest{}, Out: sessionCreated{}, Status: 201},
	"DELETE /api/v1/sessions/current":        {Status: 204},
	"GET /api/v1/me":                         {Out: sessionUser{}},
	"POST /api/v1/communities":               {In: identity.NewCommunity{}, Out: identity.Community{}},
	"GET /api/v1/communities":                {Out: page[identity.Community]{}},
	"GET /api/v1/communities/:cid":           {Out: identity.Community{}},
	"POST /api/v1/communities/:cid/users":    {In: identity.NewUser{}, Out: identity.User{}},
	"GET /api/v1/communities/:cid/users":     {Out: page[identity.User]{}},
	"POST /api/v1/communities/:cid/shifts":   {In: shiftOpenRequest{}, Out: pos.Shift{}},
	"POST /api/v1/communities/:cid/sales":    {In: saleCreateRequest{}, Out: saleJSON{}, Idem: true},
	"GET /api/v1/communities/:cid/sales":     {Out: page[saleJSON]{}},
	"GET /api/v1/communities/:cid/sales/:id": {Out: saleJSON{}},
	"GET /api/v1/receipts/:token":            {Out: pos.Receipt{}},

	"POST /api/v1/communities/:cid/products":          {In: inventory.ProductInput{}, Out: productJSON{}},
	"GET /api/v1/communities/:cid/products":           {Out: page[productJSON]{}, Query: []string{"active"}},
	"GET /api/v1/communities/:cid/products/:id":       {Out: productJSON{}},
	"POST /api/v1/communities/:cid/locations":         {In: locationCreateRequest{}, Out: inventory.Location{}},
	"GET /api/v1/communities/:cid/locations":          {Out: page[inventory.Location]{}},
	"PUT /api/v1/communities/:cid/products/:id/image": {Multipart: true, Out: productJSON{}},
	"GET /img/:hash": {ContentType: "image/*"},

	"GET /api/v1/communities/:cid/grids":             {Out: page[identity.Grid]{}},
	"POST /api/v1/communities/:cid/grids":            {Out: identity.Grid{}},
	"GET /api/v1/communities/:cid/micro-grids":       {Out: page[identity.MicroGrid]{}},
	"POST /api/v1/communities/:cid/micro-grids":      {In: identity.NewMicroGrid{}, Out: identity.MicroGrid{}},
	"GET /api/v1/communities/:cid/fund":              {Out: fundJSON{}},
	"GET /api/v1/communities/:cid/projects":          {Out: page[fund.Project]{}},
	"GET /api/v1/communities/:cid/projects/:id":      {Out: fund.Project{}},
	"GET /api/v1/communities/:cid/ledger/accounts":   {Out: page[fund.Account]{}},
	"POST /api/v1/communities/:cid/sales/:id/cancel": {Out: saleJSON{}, Status: 200},

	"GET /api/v1/communities/:cid/sales/:id/events":         {ContentType: "text/event-stream"},
	"GET /api/v1/communities/:cid/sales/:id/qr.svg":         {ContentType: "image/svg+xml"},
	"GET /api/v1/communities/:cid/sales/:id/qr.png":         {ContentType: "image/png"},
	"GET /api/v1/communities/:cid/sales/:id/receipt-qr.svg": {ContentType: "image/svg+xml"},
	"GET /api/v1/communities/:cid/sales/:id/receipt.escpos": {ContentType: "application/octet-stream"},
	"GET /api/v1/communities/:cid/ledger/entries.csv":       {ContentType: "text/csv"},
}
