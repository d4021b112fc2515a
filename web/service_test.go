package web_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newEnv(t)
	if st, body := e.call("GET", "/healthz", "", nil); st != 200 || body["ok"] != true {
		t.Fatalf("healthz: %d %v", st, body)
	}
	if st, body := e.call("GET", "/readyz", "", nil); st != 200 || body["ok"] != true {
		t.Fatalf("readyz on a migrated database: %d %v", st, body)
	}
	e.call("GET", "/login", "", nil)
	st, raw := e.raw("GET", "/metrics", "", nil)
	if st != 200 || !strings.Contains(string(raw), `shelin_http_requests_total{method="GET",route="/login",status="200"}`) {
		t.Fatalf("metrics: %d, no request counter for /login", st)
	}
	if !strings.Contains(string(raw), "shelin_db_tx_retries_total") {
		t.Fatal("metrics: no transaction retry counter")
	}
}

func TestUnknownRoutesAndBadBodiesAnswerTheErrorFormat(t *testing.T) {
	e := newEnv(t)
	st, body := e.call("GET", "/api/v1/nothing-here", "", nil)
	if st != 404 || errorOf(body)["code"] != "not_found" {
		t.Fatalf("unknown route: %d %v", st, body)
	}
	// A body over the limit is refused before any handler runs: the server
	// answers 413 or, as fasthttp does while the client is still sending,
	// closes the connection. Either way nothing is written.
	big := `{"name":"` + strings.Repeat("x", 9<<20) + `"}`
	req, _ := http.NewRequest("POST", e.URL+e.c()+"/grids", strings.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+e.Tokens["admin"])
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a 9 MiB body: %d, want 413", res.StatusCode)
		}
	}
	var n int
	e.DB.Get(&n, `SELECT count(*) FROM grids WHERE community_id=$1`, e.Com.ID)
	if n != 0 {
		t.Fatalf("an oversized body wrote %d grids", n)
	}
}
