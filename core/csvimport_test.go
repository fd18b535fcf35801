package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseMembershipCSV(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Plain", "a@example.org,old-town\n", "[{1 a@example.org old-town }]"},
		{"Header", "email,neighbourhood\na@example.org,old-town\n", "[{2 a@example.org old-town }]"},
		{"BOM", "\ufeffemail,neighbourhood\r\na@example.org,old-town\r\n", "[{2 a@example.org old-town }]"},
		{"BOMNoHeader", "\ufeffa@example.org,old-town\n", "[{1 a@example.org old-town }]"},
		{"NUL", "a\x00@example.org,old-town\n", "[{1 a@example.org old-town invalid}]"},
		{"ThreeFields", "a@example.org,old-town,x\n", "[{1   invalid}]"},
		{"LongNeighbourhood", "a@example.org," + strings.Repeat("n", 65) + "\n", "[{1 a@example.org " + strings.Repeat("n", 65) + " invalid}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := ParseMembershipCSV([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(rows); got != tc.want {
				t.Fatalf("rows %s, want %s", got, tc.want)
			}
		})
	}
}

// FuzzParseMembershipCSV feeds the import arbitrary files: it never panics, refuses a
// file only with a malformed *Error, numbers rows in increasing order, and every row it
// does not mark invalid is text both databases store (valid UTF-8, no NUL, in length).
func FuzzParseMembershipCSV(f *testing.F) {
	for _, seed := range []string{
		"email,neighbourhood\na@example.org,old-town\n", "\ufeffa@example.org,x\r\n", "a\x00,b\n",
		"\"unterminated,x\n", "a,b,c\n\n\n", "\xff\xfe,x\n", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseMembershipCSV(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EMALFORMED {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		last := 0
		for _, r := range rows {
			if r.Line <= last {
				t.Fatalf("line %d after %d", r.Line, last)
			}
			last = r.Line
			for _, s := range []string{r.Email, r.Neighbourhood} {
				if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
					t.Fatalf("row %+v holds text no database stores alike", r)
				}
			}
			if r.Result != "invalid" && (utf8.RuneCountInString(r.Email) > 254 || utf8.RuneCountInString(r.Neighbourhood) > 64) {
				t.Fatalf("row %+v is over length but not invalid", r)
			}
		}
	})
}
