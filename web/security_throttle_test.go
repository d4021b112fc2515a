package web_test

import (
	"fmt"
	"strconv"
	"testing"

	"shelin/identity"
)

// 150 parallel wrong passwords on one login: the throttle counts each
// attempt before the password is checked, in one step, so exactly the limit
// of them are checked (401) and the rest are refused (429); then even the
// right password waits, and the answer says how long.
func TestSecurityParallelPasswordGuessesStopAtTheLimit(t *testing.T) {
	e := newEnv(t)
	_, fresh := e.newCommunity()
	login := fresh[identity.Treasurer].Login
	limit := e.Srv.Identity().MaxFailures
	counts := parallel(t, 150, func(i int) (int, error) {
		return post(e.URL+"/api/v1/sessions", fmt.Sprintf(`{"login":%q,"password":"guess-%d"}`, login, i))
	})
	if counts[401] != limit || counts[429] != 150-limit {
		t.Fatalf("150 parallel guesses: %v, want %d × 401 and the rest 429", counts, limit)
	}
	st, after := e.signIn(login, testPassword)
	if st != 429 {
		t.Fatalf("the right password while backing off: %d, want 429", st)
	}
	if secs, err := strconv.Atoi(after); err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q, want 1–60 seconds", after)
	}
}

// 60 parallel wrong PINs for one volunteer on a paired tablet: at most the
// limit are checked, and then the right PIN is refused while locked.
func TestSecurityParallelPINGuessesStopAtTheLimit(t *testing.T) {
	e := newEnv(t)
	cred := e.pairTablet()
	vol := e.Users[identity.Volunteer].ID
	limit := e.Srv.Identity().MaxFailures
	counts := parallel(t, 60, func(i int) (int, error) {
		return post(e.URL+"/api/v1/pos/pin-login", fmt.Sprintf(`{"user_id":%q,"pin":"%04d"}`, vol, 3000+i), "Shelin-Device", cred)
	})
	if counts[401] != limit || counts[429] != 60-limit {
		t.Fatalf("60 parallel PIN guesses: %v, want %d × 401 and the rest 429", counts, limit)
	}
	st, body := e.pinLogin(cred, vol, "2468")
	if st != 429 || errorOf(body)["code"] != "rate_limited" || errorOf(body)["message"] == "" {
		t.Fatalf("the right PIN while locked: %d %v, want 429", st, body)
	}
	// A second person's approval checks the same PIN throttle.
	var failures int
	if err := e.DB.Get(&failures, `SELECT failures FROM auth_throttles WHERE key = 'pin:user:' || $1`, vol); err != nil {
		t.Fatal(err)
	}
	if failures != limit {
		t.Fatalf("the PIN throttle counted %d failures, want %d", failures, limit)
	}
}

// Behind a trusted reverse proxy the client address comes from
// X-Forwarded-For, read from the right, so junk from one address neither
// locks out the treasurer at another nor escapes by forging the header.
func TestSecurityTrustedProxyKeysThrottlesByTheRealClient(t *testing.T) {
	e := newProxiedEnv(t)
	treasurer := e.Users[identity.Treasurer].Login
	attacker, office := "198.51.100.7", "203.0.113.20"
	if st, _ := e.signIn(treasurer, testPassword, fromAddr(office)...); st != 201 {
		t.Fatalf("treasurer signs in at the office: %d", st)
	}
	// 101 junk sign-ins from one address, across logins and on the
	// treasurer's own.
	e.Srv.Identity().MaxFailuresPerIP = 100
	for i := 0; i < 101; i++ {
		login := fmt.Sprintf("junk%d-%s", i, e.Com.Slug)
		if i%10 == 0 {
			login = treasurer
		}
		if st, _ := e.signIn(login, "wrong password", fromAddr(attacker)...); st != 401 && st != 429 {
			t.Fatalf("junk sign-in %d: %d, want 401 or 429", i, st)
		}
	}
	if st, _ := e.signIn("nobody-"+e.Com.Slug, "x", fromAddr(attacker)...); st != 429 {
		t.Fatalf("the junk address after 101 failures: %d, want 429", st)
	}
	// Forging the leftmost entry does not change the address the proxy saw.
	if st, _ := e.signIn("nobody-"+e.Com.Slug, "x", "X-Forwarded-For", "192.0.2.1, "+attacker); st != 429 {
		t.Fatalf("a forged X-Forwarded-For entry escaped the throttle: %d, want 429", st)
	}
	if st, _ := e.signIn(treasurer, testPassword, fromAddr(office)...); st != 201 {
		t.Fatalf("the treasurer at the office after junk from another address: %d, want 201", st)
	}
	// The treasurer from a new address is not locked either: her login had
	// at most 11 failures, under its own limit.
	if st, _ := e.signIn(treasurer, testPassword, fromAddr("203.0.113.99")...); st != 201 {
		t.Fatalf("the treasurer from a new address: %d, want 201", st)
	}
}

// Without a trusted proxy the header is ignored: every request is the
// connection's address, so a client cannot pick its own.
func TestSecurityUntrustedForwardedForIsIgnored(t *testing.T) {
	e := newEnv(t)
	login := "nobody-" + e.Com.Slug
	for i := 0; i < e.Srv.Identity().MaxFailures; i++ {
		if st, _ := e.signIn(login, "x", fromAddr(fmt.Sprintf("192.0.2.%d", i+1))...); st != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, st)
		}
	}
	if st, _ := e.signIn(login, "x", fromAddr("192.0.2.200")...); st != 429 {
		t.Fatalf("a new X-Forwarded-For from an untrusted connection: %d, want 429", st)
	}
}

// Anyone who knows a login can make it back off everywhere only past the
// looser per-login limit, only for a while that doubles with each further
// failure, and never where its owner signed in before.
func TestSecurityPerLoginBackoffIsExponentialAndSparesKnownAddresses(t *testing.T) {
	e := newProxiedEnv(t)
	ids := e.Srv.Identity()
	ids.MaxFailuresPerLogin = 15
	leader := e.Users[identity.Leader].Login
	home := "203.0.113.40"
	if st, _ := e.signIn(leader, testPassword, fromAddr(home)...); st != 201 {
		t.Fatalf("leader at home: %d", st)
	}
	// Five failures from each of three addresses: under the per-address
	// limit of 10, at the per-login limit of 15.
	for a := 0; a < 3; a++ {
		for i := 0; i < 5; i++ {
			if st, _ := e.signIn(leader, "wrong password", fromAddr(fmt.Sprintf("198.51.100.%d", 50+a))...); st != 401 {
				t.Fatalf("address %d failure %d: %d, want 401", a, i, st)
			}
		}
	}
	st, after := e.signIn(leader, testPassword, fromAddr("198.51.100.60")...)
	if st != 429 || after == "" {
		t.Fatalf("a new address after 15 failures on the login: %d %q, want 429 with Retry-After", st, after)
	}
	if first, err := strconv.Atoi(after); err != nil || first > 60 {
		t.Fatalf("first wait %q, want at most 60 s (BackoffBase)", after)
	}
	if st, _ := e.signIn(leader, testPassword, fromAddr(home)...); st != 201 {
		t.Fatalf("the leader at home while the login backs off: %d, want 201", st)
	}
	// The wait passes (moved into the past rather than slept), one more
	// failure, and the next wait is twice as long.
	if _, err := e.DB.Exec(`UPDATE auth_throttles SET last_at = last_at - interval '61 seconds' WHERE key = 'pw:login:' || $1`, leader); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.signIn(leader, "wrong password", fromAddr("198.51.100.61")...); st != 401 {
		t.Fatalf("after the wait: %d, want 401", st)
	}
	st, after = e.signIn(leader, testPassword, fromAddr("198.51.100.62")...)
	second, err := strconv.Atoi(after)
	if st != 429 || err != nil || second <= 60 || second > 120 {
		t.Fatalf("after one more failure: %d, Retry-After %q, want 429 and 61–120 s", st, after)
	}
}

// Pairing codes are guessed like passwords: wrong codes from one address
// back off (counted before the code is checked, so parallel guesses stop
// at the limit), and a tablet at another address still pairs.
func TestSecurityPairingCodesAreThrottledPerAddress(t *testing.T) {
	e := newProxiedEnv(t)
	e.Tokens[identity.Admin] = e.login(e.Users[identity.Admin].Login, testPassword)
	limit := e.Srv.Identity().MaxPairingsPerIP
	guesser := fromAddr("198.51.100.90")
	counts := parallel(t, 2*limit, func(i int) (int, error) {
		return post(e.URL+"/api/v1/pos/pair", fmt.Sprintf(`{"code":"ABCD-%04d"}`, i), guesser...)
	})
	if counts[401] != limit || counts[429] != limit {
		t.Fatalf("%d parallel wrong pairing codes: %v, want %d × 401 and the rest 429", 2*limit, counts, limit)
	}
	st, loc := e.call("POST", e.c()+"/locations", e.Tokens[identity.Admin], map[string]string{"name": "摊位 " + randomSlug(), "kind": "stall"})
	if st != 201 {
		t.Fatalf("stall: %d %v", st, loc)
	}
	st, dev := e.call("POST", e.c()+"/devices", e.Tokens[identity.Admin], map[string]any{"location_id": loc["id"], "name": "平板"})
	if st != 201 {
		t.Fatalf("tablet: %d %v", st, dev)
	}
	code := dev["pairing_code"].(string)
	if st, body := e.call("POST", "/api/v1/pos/pair", "", map[string]any{"code": code}, guesser...); st != 429 {
		t.Fatalf("the right code from the guessing address: %d %v, want 429", st, body)
	}
	if st, body := e.call("POST", "/api/v1/pos/pair", "", map[string]any{"code": code}, fromAddr("203.0.113.91")...); st != 201 {
		t.Fatalf("the right code from the stall's address: %d %v, want 201", st, body)
	}
}
