package money_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
	"shelin/internal/money"
)

func TestParseAcceptsAtMostTwoDecimals(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"12", "12.00", true}, {"12.5", "12.50", true}, {"12.50", "12.50", true}, {"0", "0.00", true},
		{"-3.10", "-3.10", true},
		{"12.505", "", false}, {"1e3", "", false}, {"", "", false}, {" 12", "", false}, {"12.", "", false},
		{"abc", "", false}, {"1,000", "", false},
	} {
		a, err := money.Parse(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("Parse(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && a.String() != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, a, tc.want)
		}
	}
}

func TestJSONRejectsNumbersAndWritesTwoDecimals(t *testing.T) {
	var v struct {
		Price money.Amount `json:"price"`
	}
	if err := json.Unmarshal([]byte(`{"price":12.5}`), &v); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a JSON number must be rejected as invalid, got %v", err)
	}
	if err := json.Unmarshal([]byte(`{"price":"12.505"}`), &v); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("three decimals must be rejected, got %v", err)
	}
	if err := json.Unmarshal([]byte(`{"price":"7.5"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"price":"7.50"}` {
		t.Fatalf("got %s", b)
	}
}

func TestPositiveAndNonNegativeNameTheField(t *testing.T) {
	_, err := money.ParsePositive("price", "0")
	if e, ok := apperr.As(err); !ok || e.Field != "price" {
		t.Fatalf("zero price: %v", err)
	}
	_, err = money.ParseNonNegative("unit_cost", "-1")
	if e, ok := apperr.As(err); !ok || e.Field != "unit_cost" {
		t.Fatalf("negative cost: %v", err)
	}
}

func TestSplitSumsExactlyToTheTotal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		total := money.FromCents(r.Int64N(10_000_000) - 100_000)
		n := 1 + r.IntN(7)
		weights := make([]decimal.Decimal, n)
		for j := range weights {
			weights[j] = decimal.NewFromInt(r.Int64N(100))
		}
		weights[r.IntN(n)] = decimal.NewFromInt(1 + r.Int64N(100)) // a positive sum
		parts := money.Split(total, weights)
		if sum := money.Sum(parts...); !sum.Equal(total) {
			t.Fatalf("Split(%s, %v) = %v sums to %s", total, weights, parts, sum)
		}
		for j, p := range parts {
			if weights[j].IsZero() && !p.IsZero() {
				t.Fatalf("a zero weight got %s", p)
			}
		}
	}
}

func TestSplitLargestRemainder(t *testing.T) {
	parts := money.Split(money.MustParse("100"), []decimal.Decimal{decimal.NewFromInt(1), decimal.NewFromInt(1), decimal.NewFromInt(1)})
	got := []string{parts[0].String(), parts[1].String(), parts[2].String()}
	want := []string{"33.34", "33.33", "33.33"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
