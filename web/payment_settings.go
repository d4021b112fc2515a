package web

import (
	"context"
	"strings"

	"shelin/internal/apperr"
	"shelin/orders/payment"
)

// Shared by the merchant-settings handlers (payment_settings_*.go and
// page_payments*.go): what an admin may see of the stored accounts (never a
// secret) and "test connection".

// merchantJSON is a stored merchant account as the API shows it: the
// identifiers only. Keys, the APIv3 key and certificates are never shown
// again after saving.
type merchantJSON struct {
	Provider   string `json:"provider"`
	MerchantID string `json:"merchant_id"`
	AppID      string `json:"app_id"`
	KeyID      string `json:"key_id,omitempty"`
	Sandbox    bool   `json:"sandbox"`
	Version    int    `json:"version"`
	UpdatedAt  string `json:"updated_at"`
	LastTest   *struct {
		At      string `json:"at"`
		OK      bool   `json:"ok"`
		Message string `json:"message,omitempty"`
	} `json:"last_test,omitempty"`
}

func merchantView(m payment.Merchant) merchantJSON {
	v := merchantJSON{Provider: m.Provider, MerchantID: m.MerchantID, AppID: m.AppID, KeyID: m.KeyID, Sandbox: m.Sandbox, Version: m.Version,
		UpdatedAt: m.UpdatedAt.Format("2006-01-02T15:04:05Z07:00")}
	if m.LastTestAt != nil && m.LastTestOK != nil {
		v.LastTest = &struct {
			At      string `json:"at"`
			OK      bool   `json:"ok"`
			Message string `json:"message,omitempty"`
		}{At: m.LastTestAt.Format("2006-01-02T15:04:05Z07:00"), OK: *m.LastTestOK, Message: m.LastTestMsg}
	}
	return v
}

// testMerchant runs "test connection" for a community's account and records
// the result. The error (a refusal, a bad key, an unreachable host) is the
// message shown; it never contains a secret.
func (s *Server) testMerchant(ctx context.Context, cid, provider string) (bool, string, error) {
	var err error
	switch provider {
	case payment.WeChatPay:
		err = s.pos.wechat.TestConnection(ctx, cid)
	case payment.Alipay:
		err = s.pos.alipay.TestConnection(ctx, cid)
	default:
		return false, "", apperr.NotFoundf("no such payment provider")
	}
	if apperr.Is(err, apperr.Conflict) && strings.Contains(err.Error(), "not set up") {
		return false, "", apperr.NotFoundf("no %s merchant account is set up for this community", provider)
	}
	ok, msg := err == nil, ""
	if err != nil {
		msg = err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
	}
	if rerr := s.pos.merchants.RecordTest(ctx, cid, provider, ok, msg); rerr != nil {
		return false, "", rerr
	}
	return ok, msg, nil
}
