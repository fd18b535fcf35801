package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// FuzzDecode feeds the core's JSON decoder arbitrary bodies for the shapes its routes
// decode into: it never panics, refuses only with a malformed or invalid *sdk.Error (the
// SDK's decoder, as every plugin's), and what it
// accepts holds no NUL and no text beyond its documented maximum.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@example.org","password":"x"}`, `{"email":"a\u0000@example.org"}`,
		`{"name":"N","boundary":{"type":"Polygon","x":"\u0000"}}`, `{"neighbourhood_ids":["a","b"]}`,
		`{"name":` + strings.Repeat(`"x`, 3) + `}`, `{"email":5}`, `{"unknown":1}`, `{} {}`, "\xff", ``,
		`{"emAil":"\\u0000"}`, // a backslash and "u0000": no NUL
	} {
		f.Add([]byte(seed))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []func() any{
			func() any { return &core.LoginAttempt{} },
			func() any { return &core.Registration{} },
			func() any { return &core.NeighbourhoodInput{} },
			func() any { return &core.OrganisationInput{} },
		} {
			v := target()
			c := app.AcquireCtx(&fasthttp.RequestCtx{})
			c.Request().SetBody(body)
			c.Request().Header.SetContentType(fiber.MIMEApplicationJSON)
			err := decode(c, v, false)
			app.ReleaseCtx(c)
			if err != nil {
				var e *sdk.Error
				if !errors.As(err, &e) || e.Code != sdk.CodeInvalid && e.Code != sdk.CodeMalformed {
					t.Fatalf("refused with %T %v, want a malformed or invalid *sdk.Error", err, err)
				}
				continue
			}
			if sdktest.EncodesNUL(v) {
				t.Fatalf("accepted a NUL into %T: %q", v, body)
			}
		}
	})
}
