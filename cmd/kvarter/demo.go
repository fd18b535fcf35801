package main

// `kvarter demo` fills an empty city with an Izmir-like one, so that a newcomer who runs
// it sees a living site: neighbourhoods, city staff, residents who belong or are waiting,
// civic organisations with their representatives. Everything goes through the core's
// services, acting as the person who would do it through the API (residents ask to
// join, coordinators approve, the city admin verifies organisations), so the audit log,
// events and roles are exactly what real use leaves behind.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/migrations"
)

// demoStep adds one part of the demo city. The core's steps come first; a built-in
// plugin adds its own demo data by appending a step to demoSteps (docs/operators.md, "A
// demo city"). A step acts as the city's people (c.as for the core's services, c.API for
// HTTP routes) and records what it made in c for the steps after it.
type demoStep struct {
	Name string
	// Plugin, when set, is the plugin whose data the step adds: the step is skipped
	// when the city does not run that plugin, and the demo starts the node with its
	// plugins before the step, so that the step fills the plugin's store through the
	// plugin's own API routes (c.API), the way its pages and clients do.
	Plugin string
	// Serve starts the node before the step without naming a plugin.
	Serve bool
	Fill  func(ctx context.Context, c *demoCity) error
}

// demoSteps fill an empty city in order.
var demoSteps = []demoStep{
	{Name: "people", Fill: demoPeople},
	{Name: "neighbourhoods", Fill: demoNeighbourhoods},
	{Name: "coordinators", Fill: demoCoordinators},
	{Name: "memberships", Fill: demoMemberships},
	{Name: "organisations", Fill: demoOrganisations},
}

// demoPerson is one account of the demo city, signed in for as long as the demo runs.
type demoPerson struct {
	Name, Email string
	// Role is what the printed table says about them ("coordinator of Bornova").
	Role     string
	User     *core.User
	password string
	token    string
	// Neighbourhood is the index in demoPlaces they live in (residents) or coordinate
	// (coordinators); -1 for the city admin.
	Neighbourhood int
	// Pending residents asked to join and wait for their coordinator.
	Pending bool
}

// demoCity is what the demo has made so far, handed from step to step.
type demoCity struct {
	Node *node.Node
	// Language is the language of the content and of the people's profiles: Turkish
	// when the city offers it, else the city's first language.
	Language       string
	Admin          *demoPerson
	Coordinators   []*demoPerson // one per neighbourhood, in demoPlaces order
	Residents      []*demoPerson
	Neighbourhoods []core.Neighbourhood // in demoPlaces order
	Organisations  []core.Organisation
	// url is the serving node's base URL, once a step asked for it.
	url string
}

// people lists everyone in the order of the printed table.
func (c *demoCity) people() []*demoPerson {
	out := []*demoPerson{c.Admin}
	out = append(out, c.Coordinators...)
	return append(out, c.Residents...)
}

// as returns ctx acting as p: their session resolved to a principal, as the API does
// for each request, so that roles gained in an earlier step count.
func (c *demoCity) as(ctx context.Context, p *demoPerson) (context.Context, error) {
	pr, err := c.Node.Identity.Authenticate(ctx, p.token)
	if err != nil {
		return nil, fmt.Errorf("act as %s: %w", p.Email, err)
	}
	return core.WithPrincipal(ctx, pr), nil
}

// API calls the serving node as p with a JSON body (nil for none) and decodes a
// successful JSON answer into out (nil to ignore it). Only steps with Plugin or Serve
// may call it.
func (c *demoCity) API(ctx context.Context, p *demoPerson, method, path string, body, out any) error {
	if c.url == "" {
		return errors.New("the demo step did not ask for a serving node (Plugin or Serve)")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("%s %s as %s: %s: %s", method, path, p.Email, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// demoPlace is a neighbourhood of the demo city; In is its name with the Turkish
// locative suffix, which follows vowel harmony and so cannot be appended by rule here.
type demoPlace struct{ Name, In string }

var demoPlaces = []demoPlace{
	{"Alsancak", "Alsancak'ta"}, {"Konak", "Konak'ta"}, {"Karşıyaka", "Karşıyaka'da"},
	{"Bornova", "Bornova'da"}, {"Buca", "Buca'da"}, {"Bayraklı", "Bayraklı'da"},
	{"Göztepe", "Göztepe'de"}, {"Güzelyalı", "Güzelyalı'da"}, {"Hatay", "Hatay'da"},
	{"Karataş", "Karataş'ta"}, {"Bostanlı", "Bostanlı'da"}, {"Mavişehir", "Mavişehir'de"},
}

// The demo's people. Staff get addresses at the city, residents at a mail provider;
// both domains are reserved for examples, so no mail can reach anyone.
var (
	demoAdminName        = "Nilüfer Akın"
	demoCoordinatorNames = []string{
		"Serkan Yurt", "Aylin Tuna", "Hakan Öztürk", "Gülşen Aydın", "Levent Kaplan", "Derya Sönmez",
		"Tarık Bozkurt", "Sevgi Erdem", "Okan Duman", "Figen Uysal", "Cenk Karaman", "Nermin Tatlı",
	}
	demoResidentNames = []string{
		"Ayşe Yılmaz", "Mehmet Kaya", "Fatma Demir", "Mustafa Şahin", "Zeynep Çelik", "Emre Yıldız",
		"Elif Yıldırım", "Burak Aslan", "Selin Doğan", "Can Kılıç", "Deniz Çetin", "Merve Kara",
		"Oğuz Koç", "Gül Kurt", "Kemal Özkan", "Esra Şimşek", "Murat Polat", "Seda Korkmaz",
		"Cem Güneş", "İpek Aksoy", "Barış Uçar", "Gizem Ünal", "Onur Tekin", "Nur Bulut",
		"Volkan Karaca", "Aslı Ekinci", "Erdem Türkmen", "Sibel Arıkan", "Kaan Özer", "Özlem Güler",
		"Arda Başaran", "Yasemin Erol", "Umut Sarıca", "Hülya Çınar", "Sinan Akgül", "Leyla Ateş",
		"Baran Kocabaş", "Cansu Eren", "İbrahim Toprak", "Melike Yalçın",
	}
)

// demoPendingFrom: residents from this index on have asked to join and wait.
const demoPendingFrom = 34

// demoNotes are what residents write when they ask to join; %s is the neighbourhood
// with its locative suffix.
var demoNotes = []string{
	"%s oturuyorum; mahalle meclisinin toplantılarına katılmak istiyorum.",
	"%s on iki yıldır kiracıyım, sokağımızın sorunlarını buradan takip etmek isterim.",
	"Çocuklarım %s okula gidiyor; mahallenin işlerine el vermek isterim.",
	"%s küçük bir kırtasiyem var, üst katında oturuyorum.",
	"Emekli öğretmenim, %s doğdum büyüdüm.",
}

// demoOrg is one organisation of the demo city: founded by one resident, who makes
// another a second representative and others members.
type demoOrg struct {
	Name, Kind, Description string
	Places                  []int // indexes in demoPlaces
	Founder, Second         int   // indexes in the residents
	Members                 []int
}

var demoOrgs = []demoOrg{
	{Name: "Bornova Okul Aile Birliği", Kind: "association", Places: []int{3},
		Description: "Bornova'daki ilkokul ve ortaokulların velileri: okul yolunun güvenliği, okul bahçelerinin mahalleye açılması ve çocuklar için hafta sonu etkinlikleri.",
		Founder:     3, Second: 15, Members: []int{27}},
	{Name: "Karşıyaka Bisiklet Kulübü", Kind: "civic_group", Places: []int{2, 10, 11},
		Description: "Karşıyaka'dan Mavişehir'e kıyı boyunca güvenli bisiklet yolu için çalışıyoruz; her pazar sabahı Bostanlı İskelesi'nden birlikte sürüyoruz.",
		Founder:     2, Second: 10, Members: []int{14, 22, 23}},
	{Name: "Buca Mahalle Dayanışma Ağı", Kind: "ngo", Places: []int{4},
		Description: "Yaşlı ve yalnız yaşayan komşularımıza alışveriş, ilaç ve sohbet desteği veren gönüllü komşuluk ağı.",
		Founder:     4, Second: 16, Members: []int{28}},
}

// demo fills an empty city: `kvarter demo [--config FILE]`.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("demo")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("demo takes no arguments, only --config")}
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := checkEmptyCity(ctx, cfg); err != nil {
		return err
	}
	// The demo may start the node for plugin steps: on a port of its own, so that it
	// never collides with a city serving on the configured one.
	cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", ""
	logger := node.NewLogger(cfg, m.Stderr)
	n, err := node.New(ctx, cfg, logger, m.nodeOptions())
	if err != nil {
		return err
	}
	defer func() { _ = n.Close(context.Background()) }()
	c := &demoCity{Node: n, Language: cfg.City.Languages[0]}
	if slices.Contains(cfg.City.Languages, "tr") {
		c.Language = "tr"
	}
	if err := runDemo(ctx, c, demoSteps, func(name string) bool { return runsPlugin(cfg, name) }); err != nil {
		return fmt.Errorf("%w\nThe city is now partly filled; start again from an empty data directory or database.", err)
	}
	return printDemo(m.Stdout, c)
}

// runsPlugin reports whether the city runs the named plugin.
func runsPlugin(cfg node.Config, name string) bool {
	if cfg.Plugins == nil {
		return builtins[name] != nil
	}
	return slices.ContainsFunc(cfg.Plugins, func(p node.PluginConfig) bool { return p.Name == name && !p.Disabled })
}

// runDemo runs the steps, starting the node before the first that needs it, and signs
// everyone out at the end.
func runDemo(ctx context.Context, c *demoCity, steps []demoStep, runs func(plugin string) bool) error {
	defer func() {
		for _, p := range c.people() {
			if p != nil && p.token != "" {
				_ = c.Node.Identity.Logout(context.WithoutCancel(ctx), p.token)
			}
		}
	}()
	for _, s := range steps {
		if s.Plugin != "" && !runs(s.Plugin) {
			continue
		}
		if (s.Plugin != "" || s.Serve) && c.url == "" {
			if err := c.Node.Start(ctx); err != nil {
				return fmt.Errorf("demo: start the node for %s: %w", s.Name, err)
			}
			c.url = c.Node.URL()
		}
		if err := s.Fill(ctx, c); err != nil {
			return fmt.Errorf("demo %s: %w", s.Name, err)
		}
	}
	return nil
}

// checkEmptyCity refuses a city that has any account, deleted ones included: the demo
// is for a fresh install, and must never mix invented people with real ones. It reads
// one count and changes nothing (not even the schema) when it refuses.
func checkEmptyCity(ctx context.Context, cfg node.Config) error {
	db, err := node.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, unknown, err := db.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fsys, err := migrations.For(db.Dialect)
	if err != nil {
		return err
	}
	all, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	if len(unknown) == 0 && len(pending) == len(all) {
		return nil // a database no kvarter has used yet
	}
	// No service answers "is there anyone at all?" for a caller who is nobody, so this
	// one read goes to the table itself.
	var users int
	if err := db.SQL().GetContext(ctx, &users, `SELECT COUNT(*) FROM users`); err != nil {
		return fmt.Errorf("count accounts: %w", err)
	}
	if users > 0 {
		return fmt.Errorf("this city already has %d account(s), so the demo changed nothing: it only fills an empty city. "+
			"Point --config, KVARTER_DATA_DIR or KVARTER_DATABASE_URL at an empty data directory or database", users)
	}
	return nil
}

// demoPeople opens every account and signs each in. Hashing a password with the city's
// argon2id parameters is the slow part (tens of milliseconds each), so accounts are
// opened on every core at once; the parameters stay the city's.
func demoPeople(ctx context.Context, c *demoCity) error {
	c.Admin = &demoPerson{Name: demoAdminName, Email: demoEmail(demoAdminName, "izmir.bel.example"), Role: "city admin", Neighbourhood: -1}
	for i, name := range demoCoordinatorNames {
		c.Coordinators = append(c.Coordinators, &demoPerson{Name: name, Email: demoEmail(name, "izmir.bel.example"),
			Role: "coordinator of " + demoPlaces[i%len(demoPlaces)].Name, Neighbourhood: i % len(demoPlaces)})
	}
	for i, name := range demoResidentNames {
		p := &demoPerson{Name: name, Email: demoEmail(name, "posta.example"), Neighbourhood: i % len(demoPlaces), Pending: i >= demoPendingFrom}
		p.Role = "resident of " + demoPlaces[p.Neighbourhood].Name
		if p.Pending {
			p.Role = "asked to join " + demoPlaces[p.Neighbourhood].Name
		}
		c.Residents = append(c.Residents, p)
	}
	people := c.people()
	// Each hash holds the parameters' memory (19 MiB by default) while it runs, so a
	// big machine still runs at most eight at once.
	workers := min(max(2, runtime.GOMAXPROCS(0)), 8)
	// The identity service admits this many hashes at once; it has not hashed yet, so
	// the setting still takes effect. A serving city keeps its own limit.
	c.Node.Identity.Settings.HashConcurrency = workers
	work := make(chan *demoPerson)
	errs := make(chan error, len(people))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				errs <- c.openAccount(ctx, p)
			}
		}()
	}
	for _, p := range people {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// openAccount gives p a fresh random password, opens the account as the API would
// (the admin as `kvarter admin create-user` does, everyone else by registering) and
// signs in.
func (c *demoCity) openAccount(ctx context.Context, p *demoPerson) error {
	pw, err := demoPassword(rand.Reader)
	if err != nil {
		return err
	}
	reg := core.Registration{Email: p.Email, Password: pw, DisplayName: p.Name, Language: c.Language}
	if p == c.Admin {
		p.User, err = c.Node.Identity.CreateUser(ctx, reg, core.RoleCityAdmin)
	} else {
		p.User, err = c.Node.Identity.Register(ctx, reg)
	}
	if err != nil {
		return fmt.Errorf("open the account of %s: %w", p.Email, err)
	}
	res, err := c.Node.Identity.Login(ctx, core.LoginAttempt{Email: p.Email, Password: pw, UserAgent: "kvarter demo"})
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", p.Email, err)
	}
	p.password, p.token = pw, res.Token
	return nil
}

// demoNeighbourhoods: the city admin creates the neighbourhoods.
func demoNeighbourhoods(ctx context.Context, c *demoCity) error {
	actx, err := c.as(ctx, c.Admin)
	if err != nil {
		return err
	}
	for _, pl := range demoPlaces {
		nb, err := c.Node.Neighbourhoods.CreateNeighbourhood(actx, core.NeighbourhoodInput{Name: pl.Name})
		if err != nil {
			return fmt.Errorf("create %s: %w", pl.Name, err)
		}
		c.Neighbourhoods = append(c.Neighbourhoods, *nb)
	}
	return nil
}

// demoCoordinators: the city admin makes each coordinator one of their neighbourhood.
func demoCoordinators(ctx context.Context, c *demoCity) error {
	actx, err := c.as(ctx, c.Admin)
	if err != nil {
		return err
	}
	for _, p := range c.Coordinators {
		g := core.RoleGrant{UserID: p.User.ID, Role: core.RoleCoordinator, Domain: core.NeighbourhoodDomain(c.Neighbourhoods[p.Neighbourhood].ID)}
		if _, err := c.Node.Roles.Grant(actx, g); err != nil {
			return fmt.Errorf("make %s a coordinator: %w", p.Email, err)
		}
	}
	return nil
}

// demoMemberships: every resident asks to join their neighbourhood with a note, and
// its coordinator approves all but the last few, who are still waiting.
func demoMemberships(ctx context.Context, c *demoCity) error {
	for i, p := range c.Residents {
		nb := c.Neighbourhoods[p.Neighbourhood]
		rctx, err := c.as(ctx, p)
		if err != nil {
			return err
		}
		note := fmt.Sprintf(demoNotes[i%len(demoNotes)], demoPlaces[p.Neighbourhood].In)
		if _, err := c.Node.Neighbourhoods.RequestMembership(rctx, nb.ID, note); err != nil {
			return fmt.Errorf("%s asks to join %s: %w", p.Email, nb.Name, err)
		}
		if p.Pending {
			continue
		}
		cctx, err := c.as(ctx, c.Coordinators[p.Neighbourhood])
		if err != nil {
			return err
		}
		if _, err := c.Node.Neighbourhoods.DecideMembership(cctx, nb.ID, p.User.ID, sqlstore.DecisionApprove, ""); err != nil {
			return fmt.Errorf("approve %s in %s: %w", p.Email, nb.Name, err)
		}
	}
	return nil
}

// demoOrganisations: a resident registers each organisation, the city admin verifies
// it, and its founder adds a second representative and members.
func demoOrganisations(ctx context.Context, c *demoCity) error {
	actx, err := c.as(ctx, c.Admin)
	if err != nil {
		return err
	}
	for _, o := range demoOrgs {
		founder := c.Residents[o.Founder]
		fctx, err := c.as(ctx, founder)
		if err != nil {
			return err
		}
		in := core.OrganisationInput{Name: o.Name, Kind: o.Kind, Description: o.Description}
		for _, i := range o.Places {
			in.NeighbourhoodIDs = append(in.NeighbourhoodIDs, c.Neighbourhoods[i].ID)
		}
		org, err := c.Node.Organisations.CreateOrganisation(fctx, in)
		if err != nil {
			return fmt.Errorf("register %s: %w", o.Name, err)
		}
		if org, err = c.Node.Organisations.DecideOrganisation(actx, org.ID, "verify", ""); err != nil {
			return fmt.Errorf("verify %s: %w", o.Name, err)
		}
		// Signed in again: the founder is now the organisation's representative.
		if fctx, err = c.as(ctx, founder); err != nil {
			return err
		}
		founder.Role += "; representative of " + o.Name
		add := func(i int, role, label string) error {
			p := c.Residents[i]
			if _, err := c.Node.Organisations.AddOrganisationMember(fctx, org.ID, p.User.ID, role); err != nil {
				return fmt.Errorf("add %s to %s: %w", p.Email, o.Name, err)
			}
			p.Role += "; " + label + " of " + o.Name
			return nil
		}
		if err := add(o.Second, core.OrgRoleRepresentative, "representative"); err != nil {
			return err
		}
		for _, i := range o.Members {
			if err := add(i, core.OrgRoleMember, "member"); err != nil {
				return err
			}
		}
		c.Organisations = append(c.Organisations, *org)
	}
	return nil
}

// printDemo writes the one and only copy of the passwords, with what was made.
func printDemo(w io.Writer, c *demoCity) error {
	pending := 0
	for _, p := range c.Residents {
		if p.Pending {
			pending++
		}
	}
	fmt.Fprintf(w, "The demo city is ready: %d neighbourhoods, %d organisations, 1 city admin, %d coordinators and %d residents (%d of them waiting for their coordinator).\n",
		len(c.Neighbourhoods), len(c.Organisations), len(c.Coordinators), len(c.Residents), pending)
	fmt.Fprint(w, "Start the site with `kvarter serve` and sign in as any of them. The passwords are shown only this once\n"+
		"and stored nowhere in readable form: keep the ones you need.\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tPASSWORD")
	for _, p := range c.people() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Email, p.Role, p.password)
	}
	return tw.Flush()
}

// demoEmail makes an address from a Turkish name: "Gülşen Aydın" at d is
// gulsen.aydin@d.
func demoEmail(name, domain string) string {
	name = strings.ReplaceAll(name, "İ", "I") // lower-cased, İ would keep a combining dot
	return strings.ReplaceAll(core.Slugify(name), "-", ".") + "@" + domain
}

// demoPasswordAlphabet has no letters or digits that read alike (0/o, 1/l/i).
const demoPasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// demoPassword returns four groups of five characters from rnd, about 99 bits, easy
// to read out and type.
func demoPassword(rnd io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for n := 0; n < 20; {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		// Rejection sampling keeps every character equally likely.
		if int(buf[0]) >= 256-256%len(demoPasswordAlphabet) {
			continue
		}
		if n > 0 && n%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(demoPasswordAlphabet[int(buf[0])%len(demoPasswordAlphabet)])
		n++
	}
	return b.String(), nil
}
