// Package money handles CNY amounts: decimal in Go, NUMERIC(14,2) in SQL and
// two-decimal strings in JSON. Floats never touch money.
package money

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/shopspring/decimal"

	"shelin/internal/apperr"
)

// Amount is a CNY amount with at most two decimals.
type Amount struct{ d decimal.Decimal }

// Zero is ¥0.00.
var Zero = Amount{}

var amountRe = regexp.MustCompile(`^-?[0-9]{1,12}(\.[0-9]{1,2})?$`)

// Parse reads "12", "12.5" or "12.50". More than two decimals, exponents,
// blanks and anything else are rejected.
func Parse(s string) (Amount, error) {
	if !amountRe.MatchString(s) {
		return Zero, apperr.New(apperr.Invalid, "amount %q must be a string with at most two decimals, like \"12.50\"", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Zero, apperr.New(apperr.Invalid, "amount %q is not a number", s)
	}
	return Amount{d}, nil
}

// MustParse is Parse for constants and tests; it panics on bad input.
func MustParse(s string) Amount {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// FromDecimal rounds d to cents (half away from zero).
func FromDecimal(d decimal.Decimal) Amount { return Amount{d.Round(2)} }

// FromCents builds an amount from a whole number of cents.
func FromCents(c int64) Amount { return Amount{decimal.New(c, -2)} }

// ParseField parses s and names field in the error.
func ParseField(field, s string) (Amount, error) {
	a, err := Parse(s)
	if err != nil {
		e, _ := apperr.As(err)
		return Zero, e.WithField(field)
	}
	return a, nil
}

// ParseNonNegative parses s and rejects negative values, naming field.
func ParseNonNegative(field, s string) (Amount, error) {
	a, err := ParseField(field, s)
	if err != nil {
		return Zero, err
	}
	if a.IsNegative() {
		return Zero, apperr.Field(field, "amount must not be negative")
	}
	return a, nil
}

// ParsePositive parses s and rejects zero and negative values, naming field.
func ParsePositive(field, s string) (Amount, error) {
	a, err := ParseField(field, s)
	if err != nil {
		return Zero, err
	}
	if !a.IsPositive() {
		return Zero, apperr.Field(field, "amount must be greater than zero")
	}
	return a, nil
}

func (a Amount) Decimal() decimal.Decimal { return a.d }
func (a Amount) Add(b Amount) Amount      { return Amount{a.d.Add(b.d)} }
func (a Amount) Sub(b Amount) Amount      { return Amount{a.d.Sub(b.d)} }
func (a Amount) Neg() Amount              { return Amount{a.d.Neg()} }
func (a Amount) Mul(n int64) Amount       { return Amount{a.d.Mul(decimal.NewFromInt(n))} }
func (a Amount) Cmp(b Amount) int         { return a.d.Cmp(b.d) }
func (a Amount) Equal(b Amount) bool      { return a.d.Equal(b.d) }
func (a Amount) IsZero() bool             { return a.d.IsZero() }
func (a Amount) IsNegative() bool         { return a.d.IsNegative() }
func (a Amount) IsPositive() bool         { return a.d.IsPositive() }
func (a Amount) LessThan(b Amount) bool   { return a.d.LessThan(b.d) }
func (a Amount) GreaterThan(b Amount) bool {
	return a.d.GreaterThan(b.d)
}

// Cents returns the amount as a whole number of cents.
func (a Amount) Cents() int64 { return a.d.Shift(2).Round(0).IntPart() }

// Min returns the smaller of a and b.
func Min(a, b Amount) Amount {
	if a.LessThan(b) {
		return a
	}
	return b
}

// Sum adds amounts.
func Sum(as ...Amount) Amount {
	t := Zero
	for _, a := range as {
		t = t.Add(a)
	}
	return t
}

// String formats with exactly two decimals: "12.50".
func (a Amount) String() string { return a.d.StringFixed(2) }

// Yuan formats for people: "¥12.50".
func (a Amount) Yuan() string { return "¥" + a.String() }

// MarshalJSON writes a two-decimal string.
func (a Amount) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON accepts only a JSON string with at most two decimals; a JSON
// number is rejected so that floats never carry money.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return apperr.New(apperr.Invalid, "amounts must be JSON strings like \"12.50\", not numbers")
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return apperr.New(apperr.Invalid, "amount is not a string")
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Value stores the amount as NUMERIC text.
func (a Amount) Value() (driver.Value, error) { return a.String(), nil }

// Scan reads NUMERIC from the database.
func (a *Amount) Scan(src any) error {
	var d decimal.Decimal
	if err := d.Scan(src); err != nil {
		return fmt.Errorf("money: scan: %w", err)
	}
	a.d = d
	return nil
}

// Split divides total into parts proportional to weights using the largest
// remainder method, so that the parts always sum exactly to total (in cents).
// Weights must be non-negative with a positive sum. Ties in remainders go to
// the earlier part, so the result is deterministic.
func Split(total Amount, weights []decimal.Decimal) []Amount {
	parts := make([]Amount, len(weights))
	if len(weights) == 0 {
		return parts
	}
	sum := decimal.Zero
	for _, w := range weights {
		sum = sum.Add(w)
	}
	if !sum.IsPositive() {
		return parts
	}
	cents := total.Cents()
	neg := cents < 0
	if neg {
		cents = -cents
	}
	type rem struct {
		i int
		r decimal.Decimal
	}
	rems := make([]rem, len(weights))
	var given int64
	tc := decimal.NewFromInt(cents)
	for i, w := range weights {
		exact := tc.Mul(w).Div(sum)
		floor := exact.Floor()
		parts[i] = FromCents(floor.IntPart())
		given += floor.IntPart()
		rems[i] = rem{i, exact.Sub(floor)}
	}
	sort.SliceStable(rems, func(x, y int) bool { return rems[x].r.GreaterThan(rems[y].r) })
	for k := 0; given < cents; k++ {
		i := rems[k%len(rems)].i
		parts[i] = parts[i].Add(FromCents(1))
		given++
	}
	if neg {
		for i := range parts {
			parts[i] = parts[i].Neg()
		}
	}
	return parts
}
