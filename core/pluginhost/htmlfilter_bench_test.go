package pluginhost_test

import (
	"testing"

	"github.com/kvarter/kvarter/core/pluginhost"
)

// greetHTML is the SDK's hello plugin's greeting form as it answers it, the page
// bench/pages/run.sh measures.
const greetHTML = `<p>Lähetä tervehdys naapureillesi.</p>
<form method="post" action="/hello/greet" novalidate>
  <div class="ds-field">
    <label for="message">Viesti</label>
    <p id="message-hint">Enintään 280 merkkiä.</p>
    <input id="message" name="message" type="text" value="" autocomplete="off"
      aria-describedby="message-hint">
  </div>
  <button type="submit" class="ds-button">Lähetä</button>
</form>
<table class="ds-table"><caption>Viimeisimmät &amp; uusimmat</caption><thead><tr><th scope="col">Kuka</th><th scope="col">Mitä</th></tr></thead>
<tbody><tr><th scope="row">Aino</th><td><a href="/hello/greet?id=1" hx-get="/hello/greet?id=1" hx-target="#list">Hei &lt;naapurit&gt;</a></td></tr>
<tr><th scope="row">Ville</th><td><a href="https://example.org/" data-hx-boost="true">Linkki</a></td></tr></tbody></table>`

// BenchmarkFilterHTML is what the host's filter costs a third-party plugin's page.
func BenchmarkFilterHTML(b *testing.B) {
	b.SetBytes(int64(len(greetHTML)))
	for b.Loop() {
		pluginhost.FilterHTML([]byte(greetHTML), "hello", "/hello/greet")
	}
}
