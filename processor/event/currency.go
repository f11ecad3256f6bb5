package event

// minorUnits is the ISO 4217 list of active currency codes (List One, as
// amended to 2025: ZWG in, HRK, SLL and ZWL out) with the number of minor
// units (decimal places) each uses. Codes without minor units in the
// standard (precious metals XAU XAG XPD XPT, XDR, XSU, XUA, the bond units
// XBA-XBD) and the testing and "no currency" codes XTS and XXX are left
// out: they are not money a receivable can be in.
var minorUnits = map[Currency]uint8{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2,
	"BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
	"CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2, "COP": 2,
	"COU": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2,
	"DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2,
	"FJD": 2, "FKP": 2,
	"GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2,
	"HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
	"JMD": 2, "JOD": 3, "JPY": 0,
	"KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2,
	"LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2,
	"NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2,
	"OMR": 3,
	"PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0,
	"QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0,
	"SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2,
	"SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
	"UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2,
	"VED": 2, "VES": 2, "VND": 0, "VUV": 0,
	"WST": 2,
	"XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
	"YER": 2,
	"ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// minorTable is minorUnits indexed by the three letters (1 + minor units,
// 0 for no currency): the decoder looks every amount's currency up, and an
// index is several times cheaper than a map.
var minorTable = func() (t [26 * 26 * 26]uint8) {
	for c, n := range minorUnits {
		t[letters(c)] = n + 1
	}
	return t
}()

// letters is the index of three upper-case letters in minorTable, -1 for
// anything else.
func letters(c Currency) int {
	if len(c) != 3 {
		return -1
	}
	i := 0
	for j := 0; j < 3; j++ {
		if c[j] < 'A' || c[j] > 'Z' {
			return -1
		}
		i = i*26 + int(c[j]-'A')
	}
	return i
}

// MinorUnits is the number of decimal places ISO 4217 gives c (EUR 2,
// JPY 0, BHD 3, CLF 4); false when c is not an active currency code.
func (c Currency) MinorUnits() (int, bool) {
	i := letters(c)
	if i < 0 || minorTable[i] == 0 {
		return 0, false
	}
	return int(minorTable[i]) - 1, true
}

// Known reports whether c is an active ISO 4217 currency (see MinorUnits).
// Valid only checks the shape of the code.
func (c Currency) Known() bool {
	_, ok := c.MinorUnits()
	return ok
}

// FitsMinorUnits reports whether a has no more decimal places than c's
// minor units (12.50 EUR yes, 12.505 EUR no, 5.5 JPY no). False for an
// unknown currency.
func (a Amount) FitsMinorUnits(c Currency) bool {
	n, ok := c.MinorUnits()
	if !ok {
		return false
	}
	if n >= Scale {
		return true
	}
	step := Amount(1)
	for i := n; i < Scale; i++ {
		step *= 10
	}
	return a%step == 0
}
