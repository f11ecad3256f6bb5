package event

import "testing"

func TestMinorUnits(t *testing.T) {
	for c, want := range map[Currency]int{"EUR": 2, "USD": 2, "GBP": 2, "JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "CLF": 4, "UYW": 4} {
		if got, ok := c.MinorUnits(); !ok || got != want {
			t.Errorf("%s: %d, %v; want %d", c, got, ok, want)
		}
	}
	for _, c := range []Currency{"ZZZ", "XXX", "XTS", "XAU", "XDR", "HRK", "eur", "EU", "", "EURO"} {
		if _, ok := c.MinorUnits(); ok || c.Known() {
			t.Errorf("%q is known", c)
		}
	}
	if n := len(minorUnits); n < 150 || n > 185 {
		t.Errorf("%d active codes; ISO 4217 has about 165", n)
	}
	for c := range minorUnits {
		if !c.Valid() {
			t.Errorf("%q is not three upper-case letters", c)
		}
	}
}

func TestFitsMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		c    Currency
		a    string
		want bool
	}{
		{"EUR", "12.50", true}, {"EUR", "-3", true}, {"EUR", "12.505", false}, {"EUR", "0.0001", false},
		{"JPY", "500", true}, {"JPY", "5.5", false}, {"BHD", "1.234", true}, {"BHD", "1.2345", false},
		{"CLF", "1.2345", true}, {"ZZZ", "1", false},
	} {
		if got := MustAmount(tc.a).FitsMinorUnits(tc.c); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.a, tc.c, got, tc.want)
		}
	}
}
