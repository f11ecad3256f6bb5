package event

import (
	"math/big"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	good := map[string]Amount{"12.5": 125000, "-3": -30000, "0.0001": 1, "+7.25": 72500, ".5": 5000, "100": 1000000}
	for s, want := range good {
		got, err := ParseAmount(s)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", s, got, err, want)
		}
		back, err := ParseAmount(got.String())
		if err != nil || back != got {
			t.Errorf("String round trip of %q: %q -> %d, %v", s, got.String(), back, err)
		}
	}
	for _, s := range []string{"", "1.00001", "abc", "1e5", "-", ".", "1.2.3", "99999999999999999999"} {
		if _, err := ParseAmount(s); err == nil {
			t.Errorf("ParseAmount(%q) accepted", s)
		}
	}
}

func TestAmountRat(t *testing.T) {
	a := MustAmount("-12.3456")
	back, err := AmountFromRat(a.Rat())
	if err != nil || back != a {
		t.Fatalf("rat round trip: %d, %v", back, err)
	}
	if _, err := AmountFromRat(big.NewRat(1, 3)); err == nil {
		t.Error("1/3 accepted: more than 4 decimals must be an error")
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-03-15")
	if err != nil || d.String() != "2026-03-15" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	late := time.Date(2026, 3, 15, 23, 30, 0, 0, time.FixedZone("x", 3600*5))
	if DateOf(late) != d {
		t.Errorf("DateOf uses the instant's own calendar day: got %s", DateOf(late))
	}
	if !Currency("EUR").Valid() || Currency("eur").Valid() || Currency("EURO").Valid() {
		t.Error("currency validation")
	}
	if KindByName("PaymentReceived") != KindPaymentReceived || KindByName("nope") != KindUnknown || len(Kinds()) != 31 || KindByName("AccountReopened") != KindAccountReopened {
		t.Error("kind names")
	}
	for _, k := range Kinds() {
		if KindByName(k.String()) != k || k.String() == "Unknown" {
			t.Errorf("kind %d has no distinct name (%q)", k, k)
		}
	}
}
