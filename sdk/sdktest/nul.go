package sdktest

import (
	"encoding/json"
	"regexp"
)

// EncodesNUL reports whether v holds a NUL anywhere its JSON reaches (a string, a
// key): the oracle of a fuzz test that a decoder lets no NUL through, which
// PostgreSQL refuses in text. It looks for the escape \u0000 in encoding/json's
// output, not for the text \u0000 that a string holding a backslash encodes to
// (\\u0000), which is no NUL.
func EncodesNUL(v any) bool {
	enc, err := json.Marshal(v)
	return err == nil && escapedNUL.Match(enc)
}

// escapedNUL is \u0000 after an even number of backslashes.
var escapedNUL = regexp.MustCompile(`(?:^|[^\\])(?:\\\\)*\\u0000`)
