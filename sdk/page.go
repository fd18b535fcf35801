package sdk

// The page contract (DESIGN.md §10): a plugin renders only the content of <main>, in its
// own process, through the same Handle call as its API; the host draws the frame around
// it. These types are shared by the SDK's route table, its web package and the host.

// Render says what the host wants back from a request.
type Render int

const (
	// RenderAPI is an API request: JSON in and out (the default).
	RenderAPI Render = iota
	// RenderPage asks for the content of <main>; the host wraps it in the frame.
	RenderPage
	// RenderFragment asks for a piece of a page that htmx swaps in, or a card the
	// host places on one of its own pages.
	RenderFragment
)

// String is the name of the render mode, as logs and tests show it.
func (r Render) String() string {
	switch r {
	case RenderPage:
		return "page"
	case RenderFragment:
		return "fragment"
	default:
		return "api"
	}
}

// PageMeta travels with rendered HTML to the host in protocol fields — never in
// headers, which cannot carry Finnish or Turkish titles safely.
type PageMeta struct {
	// Title is the page's <title> and first heading, in the viewer's language.
	Title string
	// Breadcrumbs lead from the home page to this one; the host adds "Home".
	Breadcrumbs []Crumb
	// NavActive is the ID of the manifest's nav entry to mark as current.
	NavActive string
	// Announce is text for the frame's live region (#kv-status) after an htmx swap,
	// e.g. "Your booking was sent".
	Announce string
	// Focus is the id of the element that takes focus after the page or fragment is
	// swapped in: the error summary after a broken rule.
	Focus string
}

// Crumb is one step of the breadcrumbs.
type Crumb struct {
	Label string
	Href  string
}

// UI is the manifest's section for the browser: what the host draws without calling
// the plugin. Page routes themselves are in the manifest's route table.
type UI struct {
	// Nav are the plugin's entries in the site's navigation.
	Nav []NavEntry
	// Cards are fragments the plugin offers for the host's own pages (home, my
	// neighbourhood), fetched in parallel with a short deadline.
	Cards []Card
}

// NavEntry is one link of the site's navigation.
type NavEntry struct {
	// ID names the entry, for PageMeta.NavActive.
	ID string
	// Path is the page the entry links to.
	Path string
	// Labels are the entry's text in every language the plugin speaks (BCP 47 tag →
	// label); the host picks the viewer's, then the city's default, then "en".
	Labels map[string]string
	// Permission and Domain hide the entry from a viewer who may not open the page,
	// as a route's do; PermPublic shows it to everyone.
	Permission string
	Domain     string
	// Order sorts the entries of all plugins; ties sort by ID.
	Order int
}

// Card is a fragment a plugin offers for one of the host's pages.
type Card struct {
	// ID names the card.
	ID string
	// Slot is the host page the card belongs on: "home" or "neighbourhood".
	Slot string
	// Path is the plugin's fragment route that renders the card.
	Path string
	// Labels are the card's heading in every language, shown as a link to Link when
	// the card does not answer in time.
	Labels map[string]string
	// Link is where the heading leads.
	Link string
	// Permission and Domain as for NavEntry.
	Permission string
	Domain     string
}
