package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shelin/identity"
)

// tabletSignedIn pairs a browser tablet with the stall, signs the volunteer
// in with their PIN and opens a shift with a ¥100 float.
func tabletSignedIn(t *testing.T, p *posEnv) context.Context {
	t.Helper()
	_, dev := p.call("POST", p.c()+"/devices", p.Tokens[identity.Admin], map[string]any{"location_id": p.stall, "name": "平板"})
	vol := p.Users[identity.Volunteer]
	tab := browser(t)
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(p.URL+"/pos?code="+dev["pairing_code"].(string)),
		chromedp.WaitVisible("#pair-submit"), chromedp.Click("#pair-submit"),
		chromedp.WaitVisible(`#who-list button[data-user="`+vol.ID+`"]`), chromedp.Click(`#who-list button[data-user="`+vol.ID+`"]`),
		chromedp.WaitVisible("#pin-2"), chromedp.Click("#pin-2"), chromedp.Click("#pin-4"), chromedp.Click("#pin-6"), chromedp.Click("#pin-8"),
		chromedp.Click("#pin-ok"), chromedp.WaitVisible("#shift-open-quick"),
		chromedp.Click("#shift-open-quick"), chromedp.WaitVisible("#shift-open-submit"),
		chromedp.Click("#key-1"), chromedp.Click("#key-0"), chromedp.Click("#key-0"),
		chromedp.Click("#shift-open-submit"), chromedp.WaitNotVisible("#overlay"))
	if err != nil {
		screenshot(t, tab, "pos-signin-failed")
		t.Fatal(err)
	}
	return tab
}

func do(t *testing.T, tab context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		screenshot(t, tab, "pos-failed-"+name)
		t.Fatalf("%s: %v", name, err)
	}
}

// A response lost on the way back (the sale reached the server, the tablet
// saw a network error) is retried with the same Idempotency-Key: the tablet
// shows the one sale, and the server has exactly one.
func TestTabletRetryAfterALostResponseMakesOneSale(t *testing.T) {
	p := newPOSEnv(t, 10)
	tab := tabletSignedIn(t, p)
	// The next POST /sales reaches the server but its answer is "lost".
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){
		const real = window.fetch; let dropped = false;
		window.fetch = async function(url, opts) {
			const res = await real(url, opts);
			if (!dropped && opts && opts.method === 'POST' && String(url).endsWith('/sales')) { dropped = true; throw new TypeError('network lost'); }
			return res;
		};
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "cash sale", chromedp.Click("#tile-MDS-6"), chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-exact"),
		chromedp.Click("#quick-exact"), chromedp.Click("#cash-done"), chromedp.WaitVisible("#paid-tick"))
	var n int
	p.DB.Get(&n, `SELECT count(*) FROM orders WHERE community_id=$1`, p.Com.ID)
	if n != 1 {
		t.Fatalf("%d sales on the server after a retried sale, want 1", n)
	}
	var keys int
	p.DB.Get(&keys, `SELECT count(*) FROM idempotency_keys WHERE scope=$1`, p.Com.ID)
	if keys != 1 {
		t.Fatalf("%d idempotency records", keys)
	}
}

// Recent sales → refund one box with a second person's PIN → close the shift
// with the right count: variance zero.
func TestTabletRefundsWithASecondPINAndClosesTheShift(t *testing.T) {
	p := newPOSEnv(t, 10)
	tab := tabletSignedIn(t, p)
	do(t, tab, "sale", chromedp.Click("#tile-MDS-6"), chromedp.Click("#tile-MDS-6"), chromedp.Click("#pay-cash"),
		chromedp.WaitVisible("#quick-100"), chromedp.Click("#quick-100"), chromedp.Click("#cash-done"), chromedp.WaitVisible("#paid-tick"),
		chromedp.Click("#next-customer"), chromedp.WaitNotVisible("#overlay"))
	admin := p.Users[identity.Admin]
	do(t, tab, "recent", chromedp.Click("#menu-recent"), chromedp.WaitVisible("#recent-list button"), chromedp.Click("#recent-list button"),
		chromedp.WaitVisible("#refund-start"), chromedp.Click("#refund-start"), chromedp.WaitVisible("#refund-approver"),
		chromedp.SetValue("#refund-approver", admin.ID))
	// Refund one of the two boxes.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){ document.querySelector('.refund-lines .qbtn').click(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "pos-9-refund-1280x800")
	do(t, tab, "wrong PIN", chromedp.Click("#rpin-1"), chromedp.Click("#rpin-1"), chromedp.Click("#rpin-1"), chromedp.Click("#rpin-1"),
		chromedp.Click("#rpin-ok"), chromedp.WaitVisible("#refund-error"))
	time.Sleep(300 * time.Millisecond)
	msg, err := chromedp.Run(tab, chromedp.Text("#refund-error"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "审批人 PIN 不对") {
		t.Fatalf("a wrong second PIN must say so at once: %q", msg)
	}
	do(t, tab, "refund", chromedp.Click("#rpin-2"), chromedp.Click("#rpin-4"), chromedp.Click("#rpin-6"), chromedp.Click("#rpin-8"),
		chromedp.Click("#rpin-ok"), chromedp.WaitVisible("#refund-done"))
	done, _ := chromedp.Run(tab, chromedp.Text("#refund-done"))
	if !strings.Contains(done, "¥38.00") {
		t.Fatalf("refund done %q", done)
	}
	do(t, tab, "after refund", chromedp.Click("#refund-done ~ button"), chromedp.WaitNotVisible("#overlay"))
	// Drawer: 100 + 76 − 38 = 138.
	do(t, tab, "close shift", chromedp.Click("#menu-shift"), chromedp.WaitVisible("#shift-close-submit"),
		chromedp.Click("#key-1"), chromedp.Click("#key-3"), chromedp.Click("#key-8"), chromedp.Click("#shift-close-submit"),
		chromedp.WaitVisible("#shift-result"))
	res, _ := chromedp.Run(tab, chromedp.Text("#shift-result"))
	if !strings.Contains(res, "¥138.00") || !strings.Contains(res, "¥0.00") {
		t.Fatalf("shift result %q", res)
	}
	screenshot(t, tab, "pos-10-shift-closed-1280x800")
}

// A discount on the tablet: the second person's PIN is exchanged for an
// approval token in the discount dialog (a wrong PIN shows at once, next to
// the box), the cart total drops, the sale records both people, and the PIN
// is kept nowhere.
func TestTabletDiscountWithASecondPIN(t *testing.T) {
	p := newPOSEnv(t, 10)
	approver := p.addApprover()
	tab := tabletSignedIn(t, p)
	do(t, tab, "discount", chromedp.Click("#tile-MDS-6"), chromedp.Click("#cart-discount"), chromedp.WaitVisible("#dkey-3"),
		chromedp.Click("#dkey-3"), chromedp.SetValue("#discount-approver", approver), chromedp.SendKeys("#discount-pin", "000000"),
		chromedp.Click("#discount-apply"), chromedp.Poll[chromedp.Void](`document.getElementById('discount-pin-error').textContent.indexOf('审批人 PIN 不对') >= 0`))
	sheet, err := chromedp.Run(tab, chromedp.Text("#sheet"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sheet, "审批人 PIN") {
		t.Fatalf("the PIN box must be labelled 审批人 PIN: %q", sheet)
	}
	if vis, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('discount-line').hidden`)); err != nil || !vis {
		t.Fatalf("a wrong PIN must not apply the discount (%v)", err)
	}
	screenshot(t, tab, "pos-11-discount-wrong-pin-1280x800")
	do(t, tab, "right PIN", chromedp.SendKeys("#discount-pin", approverPIN), chromedp.Click("#discount-apply"), chromedp.WaitVisible("#discount-line"))
	if got, _ := chromedp.Run(tab, chromedp.Text("#cart-total")); got != "¥35.00" {
		t.Fatalf("total after discount %q", got)
	}
	do(t, tab, "pay", chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-exact"), chromedp.Click("#quick-exact"),
		chromedp.Click("#cash-done"), chromedp.WaitVisible("#paid-tick"))
	var discount string
	if err := p.DB.Get(&discount, `SELECT discount::text FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	var approvals int
	if err := p.DB.Get(&approvals, `SELECT count(*) FROM pos_approvals WHERE community_id=$1 AND action='discount' AND approved_by=$2`, p.Com.ID, approver); err != nil {
		t.Fatal(err)
	}
	if discount != "3.00" || approvals != 1 {
		t.Fatalf("discount %q approvals %d", discount, approvals)
	}
	noPIN(t, p, tab)
}

// noPIN checks that the approver's PIN is in no idempotency record, no
// approval token row and nowhere in the tablet's storage.
func noPIN(t *testing.T, p *posEnv, tab context.Context) {
	t.Helper()
	var stored string
	if err := p.DB.Get(&stored, `SELECT coalesce(string_agg(convert_from(body, 'UTF8') || encode(request_hash, 'hex'), ''), '') FROM idempotency_keys WHERE scope=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	var tokens string
	if err := p.DB.Get(&tokens, `SELECT coalesce(string_agg(row_to_json(t)::text, ''), '') FROM pos_approval_tokens t WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, approverPIN) || strings.Contains(tokens, approverPIN) {
		t.Fatal("the approver's PIN must not be stored")
	}
	kept, err := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(kept, approverPIN) {
		t.Fatal("the approver's PIN must not be kept on the tablet")
	}
}

// A discounted cash sale whose answers are lost (the money is in the
// drawer) is still pending when the tablet reloads: the reloaded tablet
// replays the same Idempotency-Key and body with the approval token, which
// the first attempt already used, and the server answers the first sale.
func TestTabletDiscountedSalePendingAcrossAReloadIsKept(t *testing.T) {
	p := newPOSEnv(t, 10)
	approver := p.addApprover()
	tab := tabletSignedIn(t, p)
	do(t, tab, "discount", chromedp.Click("#tile-MDS-6"), chromedp.Click("#cart-discount"), chromedp.WaitVisible("#dkey-3"),
		chromedp.Click("#dkey-3"), chromedp.SetValue("#discount-approver", approver), chromedp.SendKeys("#discount-pin", approverPIN),
		chromedp.Click("#discount-apply"), chromedp.WaitVisible("#discount-line"))
	// Every answer to POST /sales is lost from now on (until the reload).
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){
		const real = window.fetch;
		window.fetch = async function(url, opts) {
			const res = await real(url, opts);
			if (opts && opts.method === 'POST' && String(url).endsWith('/sales')) throw new TypeError('network lost');
			return res;
		};
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "cash", chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-exact"), chromedp.Click("#quick-exact"),
		chromedp.Click("#cash-done"), chromedp.WaitVisible("#sale-pending"))
	orders := func() (n int) {
		t.Helper()
		if err := p.DB.Get(&n, `SELECT count(*) FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(15 * time.Second)
	for orders() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sale never reached the server")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var used int
	if err := p.DB.Get(&used, `SELECT count(*) FROM pos_approval_tokens WHERE community_id=$1 AND used_at IS NOT NULL`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	queued, err := chromedp.Run(tab, chromedp.Evaluate[string](`localStorage.getItem('pos.pending') || ''`))
	if err != nil {
		t.Fatal(err)
	}
	if used != 1 || !strings.Contains(queued, `"approval_token":"apv_`) || !strings.Contains(queued, `"discount":"3.00"`) {
		t.Fatalf("used tokens %d, queued %s", used, queued)
	}
	noPIN(t, p, tab)
	// Reload: the queue is replayed and answered with the first sale.
	do(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible("#tiles"),
		chromedp.Poll[chromedp.Void](`localStorage.getItem('pos.pending') === '{}'`, chromedp.WithPollingTimeout(15*time.Second)))
	if n := orders(); n != 1 {
		t.Fatalf("%d sales after the replay, want 1", n)
	}
	var keys int
	if err := p.DB.Get(&keys, `SELECT count(*) FROM idempotency_keys WHERE scope=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if keys != 1 {
		t.Fatalf("%d idempotency records, want 1", keys)
	}
	if hidden, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('pending-failed').hidden`)); err != nil || !hidden {
		t.Fatalf("a replayed sale must not be reported as failed (%v)", err)
	}
}

// A queued write that the server refuses after a reload (here: the sale
// never reached it and its approval expired meanwhile) is shown to the
// volunteer, never dropped silently.
func TestTabletRefusedPendingSaleIsShownAfterAReload(t *testing.T) {
	p := newPOSEnv(t, 10)
	approver := p.addApprover()
	tab := tabletSignedIn(t, p)
	do(t, tab, "discount", chromedp.Click("#tile-MDS-6"), chromedp.Click("#cart-discount"), chromedp.WaitVisible("#dkey-3"),
		chromedp.Click("#dkey-3"), chromedp.SetValue("#discount-approver", approver), chromedp.SendKeys("#discount-pin", approverPIN),
		chromedp.Click("#discount-apply"), chromedp.WaitVisible("#discount-line"))
	// The network is down for POST /sales: nothing reaches the server.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){
		const real = window.fetch;
		window.fetch = async function(url, opts) {
			if (opts && opts.method === 'POST' && String(url).endsWith('/sales')) throw new TypeError('offline');
			return real(url, opts);
		};
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "cash", chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-exact"), chromedp.Click("#quick-exact"),
		chromedp.Click("#cash-done"), chromedp.WaitVisible("#sale-pending"))
	if _, err := p.DB.Exec(`UPDATE pos_approval_tokens SET expires_at = created_at + interval '1 microsecond' WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible("#pending-failed"),
		chromedp.Poll[chromedp.Void](`localStorage.getItem('pos.pending') === '{}'`, chromedp.WithPollingTimeout(15*time.Second)))
	msg, err := chromedp.Run(tab, chromedp.Text("#pending-failed"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "一笔交易") || !strings.Contains(msg, "审批已失效") || !strings.Contains(msg, "钱箱") {
		t.Fatalf("the refused sale is not explained: %q", msg)
	}
	screenshot(t, tab, "pos-12-pending-refused-1280x800")
	do(t, tab, "dismiss", chromedp.Click("#pending-failed-ok"), chromedp.WaitNotVisible("#pending-failed"))
}

// A discounted sale queued while offline survives the tablet being closed
// (its sign-in gone): after the volunteer signs in again, the queued sale is
// sent with its key, body and approval token, and is made once.
func TestTabletQueuedSaleIsSentAfterSigningInAgain(t *testing.T) {
	p := newPOSEnv(t, 10)
	approver := p.addApprover()
	tab := tabletSignedIn(t, p)
	do(t, tab, "discount", chromedp.Click("#tile-MDS-6"), chromedp.Click("#cart-discount"), chromedp.WaitVisible("#dkey-3"),
		chromedp.Click("#dkey-3"), chromedp.SetValue("#discount-approver", approver), chromedp.SendKeys("#discount-pin", approverPIN),
		chromedp.Click("#discount-apply"), chromedp.WaitVisible("#discount-line"))
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){
		const real = window.fetch;
		window.fetch = async function(url, opts) {
			if (opts && opts.method === 'POST' && String(url).endsWith('/sales')) throw new TypeError('offline');
			return real(url, opts);
		};
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "cash", chromedp.Click("#pay-cash"), chromedp.WaitVisible("#quick-exact"), chromedp.Click("#quick-exact"),
		chromedp.Click("#cash-done"), chromedp.WaitVisible("#sale-pending"))
	// The tab is closed: its sign-in (sessionStorage) is gone, the queue (localStorage) stays.
	vol := p.Users[identity.Volunteer]
	do(t, tab, "reopen", chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`), chromedp.Reload(),
		chromedp.WaitVisible(`#who-list button[data-user="`+vol.ID+`"]`), chromedp.WaitVisible("#pending"))
	var n int
	if err := p.DB.Get(&n, `SELECT count(*) FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d sales before signing in", n)
	}
	do(t, tab, "sign in", chromedp.Click(`#who-list button[data-user="`+vol.ID+`"]`),
		chromedp.WaitVisible("#pin-2"), chromedp.Click("#pin-2"), chromedp.Click("#pin-4"), chromedp.Click("#pin-6"), chromedp.Click("#pin-8"),
		chromedp.Click("#pin-ok"), chromedp.WaitVisible("#tiles"),
		chromedp.Poll[chromedp.Void](`localStorage.getItem('pos.pending') === '{}'`, chromedp.WithPollingTimeout(15*time.Second)))
	var total string
	if err := p.DB.Get(&total, `SELECT total::text FROM orders WHERE community_id=$1`, p.Com.ID); err != nil {
		t.Fatal(err)
	}
	if total != "35.00" {
		t.Fatalf("the queued discounted sale: total %q", total)
	}
	if hidden, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('pending-failed').hidden`)); err != nil || !hidden {
		t.Fatalf("the sale went through and must not be reported as failed (%v)", err)
	}
}
