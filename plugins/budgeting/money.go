package budgeting

import (
	"fmt"
	"strconv"
)

// minorExponents lists the ISO 4217 currencies whose minor unit is not a hundredth.
// Everything else valid is taken to have two decimals, which is true of almost every
// currency a city budget is kept in.
var minorExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// minorPerMajor returns how many minor units make one whole unit of currency.
func minorPerMajor(currency string) int64 {
	exp, ok := minorExponents[currency]
	if !ok {
		exp = 2
	}
	f := int64(1)
	for range exp {
		f *= 10
	}
	return f
}

// validCurrency accepts three upper-case letters: the shape of an ISO 4217 code. The
// plugin stores amounts as integers and never converts, so it needs no exchange data.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// money formats minor units as a decimal amount with its currency code.
func money(minor int64, currency string) string {
	f := minorPerMajor(currency)
	if f == 1 {
		return fmt.Sprintf("%d %s", minor, currency)
	}
	digits := len(strconv.FormatInt(f, 10)) - 1
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/f, digits, minor%f, currency)
}
