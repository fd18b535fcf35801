package i18n

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Numbers and currency symbols come from CLDR through golang.org/x/text. x/text has no
// date formatting and no currency patterns (it always writes the symbol first), so
// the two small tables below carry CLDR's patterns for the languages Kvarter speaks —
// numeric dates, so no month names are needed except English's, which Go's time
// package has. A language not in them gets ISO 8601 dates and the root currency pattern.

// datePatterns are CLDR's short date and time patterns as Go layouts, 24-hour clock
// everywhere, and how a date and a time are joined (CLDR's dateTimeFormat).
var datePatterns = map[string]struct{ date, time, join string }{
	"en": {"2 Jan 2006", "15:04", "%s, %s"},  // en-GB medium date: 6 Dec 2026, 14:30
	"fi": {"2.1.2006", "15.04", "%s klo %s"}, // 6.12.2026 klo 14.30
	"sv": {"2006-01-02", "15:04", "%s %s"},   // 2026-12-06 14:30
	"da": {"02.01.2006", "15.04", "%s %s"},   // 06.12.2026 14.30
	"tr": {"2.01.2006", "15:04", "%s %s"},    // 6.12.2026 14:30
	"":   {"2006-01-02", "15:04", "%s %s"},   // ISO 8601 for any other language
}

// currencyPrefix tells whether CLDR's standard currency pattern puts the symbol before
// the number ("¤#,##0.00") or after it, set off by a no-break space ("#,##0.00 ¤").
var currencyPrefix = map[string]bool{
	"en": true, "tr": true, // ¤#,##0.00: €860,000.00, ₺860.000,00
	"fi": false, "sv": false, "da": false, // #,##0.00 ¤: 860 000,00 €, 860.000,00 kr.
}

const nbsp = "\u00a0"

// formats is what one language needs to write numbers, cached per language.
type formats struct {
	base    string
	tag     language.Tag
	p       *message.Printer
	decimal string // the decimal separator
	minus   string // the minus sign
}

var formatCache sync.Map // language → *formats

func formatsFor(lang string) *formats {
	if f, ok := formatCache.Load(lang); ok {
		return f.(*formats)
	}
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	if lang == Pseudo {
		tag = language.English
	}
	base, _ := tag.Base()
	p := message.NewPrinter(tag)
	f := &formats{base: base.String(), tag: tag, p: p}
	half := p.Sprint(number.Decimal(1.5, number.Scale(1)))
	f.decimal = strings.TrimSuffix(strings.TrimPrefix(half, "1"), "5")
	neg := p.Sprint(number.Decimal(-1))
	f.minus = strings.TrimSuffix(neg, "1")
	formatCache.Store(lang, f)
	return f
}

func (l *Localizer) datePattern() struct{ date, time, join string } {
	if p, ok := datePatterns[l.fmt.base]; ok {
		return p
	}
	return datePatterns[""]
}

// Date is the calendar date of t in the Localizer's zone, as the language writes it:
// "6.12.2026" in Finnish, "2026-12-06" in Swedish, "6 Dec 2026" in English.
func (l *Localizer) Date(t time.Time) string {
	return t.In(l.Zone()).Format(l.datePattern().date)
}

// Time is the time of day of t in the Localizer's zone, on a 24-hour clock: "14.30" in
// Finnish and Danish, "14:30" in Swedish, Turkish and English.
func (l *Localizer) Time(t time.Time) string {
	return t.In(l.Zone()).Format(l.datePattern().time)
}

// DateTime is Date and Time joined as the language joins them: "6.12.2026 klo 14.30".
func (l *Localizer) DateTime(t time.Time) string {
	p := l.datePattern()
	t = t.In(l.Zone())
	return fmt.Sprintf(p.join, t.Format(p.date), t.Format(p.time))
}

// Number is n with the language's digit grouping: "1 234 567" in Finnish and Swedish
// (no-break spaces), "1.234.567" in Danish and Turkish, "1,234,567" in English.
func (l *Localizer) Number(n int64) string {
	return l.fmt.p.Sprint(number.Decimal(n))
}

// Money is an amount of minorUnits of the ISO 4217 currency (cents of "EUR", kuruş of
// "TRY"), with the currency's CLDR symbol for the language where the language's CLDR
// pattern puts it: "860 000,00 €" in Finnish, "860.000,00 kr." in Danish, "€860,000.00"
// and "₺860.000,00" in English and Turkish. An unknown currency code is written after
// the number as it was given.
func (l *Localizer) Money(minorUnits int64, currencyCode string) string {
	scale := 2
	symbol := strings.ToUpper(currencyCode)
	unit, err := currency.ParseISO(currencyCode)
	if err == nil {
		scale, _ = currency.Standard.Rounding(unit)
		symbol = l.fmt.p.Sprint(currency.Symbol(unit))
	} else if !validCode(symbol) {
		symbol = "XXX" // no currency (ISO 4217): never echo junk
	}
	neg := minorUnits < 0
	abs := uint64(minorUnits)
	if neg {
		abs = uint64(-(minorUnits + 1)) + 1 // also right for math.MinInt64
	}
	pow := uint64(1)
	for range scale {
		pow *= 10
	}
	whole, frac := abs/pow, abs%pow
	var num string
	if whole > math.MaxInt64 { // only math.MinInt64 of a currency without minor units
		num = strconv.FormatUint(whole, 10)
	} else {
		num = l.Number(int64(whole))
	}
	if scale > 0 {
		f := strconv.FormatUint(frac, 10)
		num += l.fmt.decimal + strings.Repeat("0", scale-len(f)) + f
	}
	sign := ""
	if neg {
		sign = l.fmt.minus
	}
	prefix, known := currencyPrefix[l.fmt.base]
	if !known { // CLDR root: "¤ #,##0.00"
		return sign + symbol + nbsp + num
	}
	if prefix {
		// CLDR's currency spacing: a symbol that does not end in a symbol character
		// ("DKK", "kr.") is set off from the digits.
		if r, _ := utf8.DecodeLastRuneInString(symbol); !unicode.IsSymbol(r) {
			return sign + symbol + nbsp + num
		}
		return sign + symbol + num
	}
	return sign + num + nbsp + symbol
}

func validCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
