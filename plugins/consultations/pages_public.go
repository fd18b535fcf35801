package consultations

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The pages anyone may open, signed in or not: the consultations with filters, one
// consultation (what it is about, who may take part in plain words, its dates and
// what happens next; a poll's question right there), the results with charts and
// tables, the charts themselves, and the cards for the host's pages.

func (p *Plugin) publicPages() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageBase, sdk.PermPublic, p.listPage),
		sdk.GetPage(pageOne, sdk.PermPublic, p.consultationPage),
		sdk.GetPage(pageOne+"/results", sdk.PermPublic, p.resultsPage),
		sdk.GetPage(pageNbhCard, sdk.PermPublic, p.neighbourhoodCard),
		sdk.GetPage(pageHome, sdk.PermAuthenticated, p.homeCard),
		sdk.Raw(http.MethodGet, chartPath, sdk.PermPublic, "image/svg+xml", p.chartSVG).With(idParam).
			Doc("A chart of one question's results (SVG)",
				"A bar chart with role=img, a title and a description that give every figure in words, in the caller's language; the results page shows it beside a table of the same figures. Public once the results are.").
			Errors(404),
	}
}

// listPageSize is how many consultations one page of the list shows.
const listPageSize = 20

// listQuery is the list's filter form (a GET form: its values are the URL's query).
type listQuery struct {
	Stage         string `json:"stage" max:"20"`
	Neighbourhood string `json:"neighbourhood" max:"64"`
	Cursor        string `json:"cursor" max:"1000"`
}

// publicStages are the stages the list filters by, in the order a resident meets
// them, with "ended" (closed in any sense) for those looking back; a draft is staff's
// business and has its own list on the staff page.
var publicStages = []Stage{StageOpen, StageUpcoming, StageEnded, StageClosed, StageResults, StageResponded}

// consultationCard is one consultation in a list or a card.
type consultationCard struct {
	ID, Title, Kind string
	Stage           Stage
	Where           string
	Opens, Closes   time.Time
}

// cards are the list's view of cs, with the names of their neighbourhoods.
func (p *Plugin) cards(ctx context.Context, v view, cs []Consultation) ([]consultationCard, error) {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.Neighbourhoods...)
	}
	names, err := p.neighbourhoodNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]consultationCard, len(cs))
	for i, c := range cs {
		out[i] = consultationCard{ID: c.ID, Title: c.Title, Kind: string(c.Kind), Stage: c.Stage, Opens: c.OpensAt, Closes: c.closedAt(),
			Where: whereText(v, c.Neighbourhoods, names)}
	}
	return out, nil
}

// whereText says where a consultation is held: city-wide, or its neighbourhoods.
func whereText(v view, ids []string, names map[string]string) string {
	if len(ids) == 0 {
		return v.T("consultations.page.where.city")
	}
	var ns []string
	for _, id := range ids {
		if n, ok := names[id]; ok {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return strings.Join(ns, ", ")
}

// neighbourhoodNames are the names of the neighbourhoods ids, by ID.
func (p *Plugin) neighbourhoodNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return out, nil
	}
	ns, err := p.svc.host.Neighbourhoods(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		out[n.ID] = n.Name
	}
	return out, nil
}

// listData is the list page.
type listData struct {
	Form           *web.Form
	Stages         []web.Option
	Neighbourhoods []web.Option
	Cards          []consultationCard
	Next           string
	Staff          bool
}

// listPage lists the published consultations, filtered by stage and neighbourhood.
func (p *Plugin) listPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	var q listQuery
	form, err := web.DecodeQuery(r, &q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := listData{Form: form, Stages: []web.Option{{Value: "", Label: v.T("consultations.page.list.any_stage")}}}
	for _, s := range publicStages {
		d.Stages = append(d.Stages, web.Option{Value: string(s), Label: v.T("consultations.page.stage." + string(s))})
	}
	if q.Stage != "" && !slices.Contains(publicStages, Stage(q.Stage)) {
		form.Invalid("stage", "consultations.page.list.stage.invalid", nil)
	}
	if d.Staff, err = p.svc.isStaff(ctx, v.pr); err != nil {
		return sdk.PageMeta{}, err
	}
	if d.Neighbourhoods, err = p.listNeighbourhoods(ctx, v); err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.meta(v.T("consultations.page.list.title"))
	meta.Breadcrumbs = nil
	if !form.Valid() {
		return v.invalid(w, r, "list", d, meta)
	}
	lq, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	lq.Limit = listPageSize
	f := ListFilter{Stage: Stage(q.Stage), Neighbourhood: q.Neighbourhood}
	page, err := p.svc.List(ctx, v.pr, f, lq)
	if err != nil {
		if form.Catch(err, "consultations.page.list") {
			return v.invalid(w, r, "list", d, meta)
		}
		return sdk.PageMeta{}, err
	}
	// Drafts are staff's business: the staff page lists them.
	items := slices.DeleteFunc(page.Items, func(c Consultation) bool { return c.Stage == StageDraft })
	if d.Cards, err = p.cards(ctx, v, items); err != nil {
		return sdk.PageMeta{}, err
	}
	d.Next = web.CursorURL(r.URL, page.NextCursor)
	if r.URL.RawQuery != "" {
		meta.Announce = v.loc.N("consultations.page.list.count", len(d.Cards))
	}
	return v.render(w, r, "list", d, meta)
}

// listNeighbourhoods are the filter's choices: the neighbourhoods that published
// consultations are for (the host lists neighbourhoods only by ID), and the viewer's.
func (p *Plugin) listNeighbourhoods(ctx context.Context, v view) ([]web.Option, error) {
	page, err := p.svc.List(ctx, sdk.Principal{}, ListFilter{}, sdk.ListQuery{Limit: sdk.MaxLimit})
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(v.pr.Neighbourhoods)
	for _, c := range page.Items {
		ids = append(ids, c.Neighbourhoods...)
	}
	names, err := p.neighbourhoodNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []web.Option{{Value: "", Label: v.T("consultations.page.list.any_neighbourhood")}}
	return append(out, sortedOptions(names)...), nil
}

// sortedOptions are names as choices, by name.
func sortedOptions(names map[string]string) []web.Option {
	var out []web.Option
	for id, n := range names {
		out = append(out, web.Option{Value: id, Label: n})
	}
	slices.SortFunc(out, func(a, b web.Option) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	return out
}

// consultationData is a consultation's page.
type consultationData struct {
	C           *Consultation
	Where       string
	Who         []string
	Eligibility Eligibility
	// Poll is the poll's form, shown on the page itself when the viewer may vote.
	Poll       *answerData
	HasResults bool
	Staff      bool
	SignIn     string
}

// consultationPage shows what a consultation is about and how to take part: a
// survey links to its form, a poll asks its question right here, an idea board
// leads to the board.
func (p *Plugin) consultationPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.consultationData(ctx, v, c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if c.Kind == KindPoll && d.Eligibility.CanAnswer && !d.Eligibility.Answered {
		d.Poll = p.newAnswerData(v, c, web.NewForm(nil), d.Eligibility)
		d.Poll.withQuestions(v, nil)
	}
	d.SignIn = signInPath(consultationPath(c.ID))
	return v.render(w, r, "consultation", d, v.meta(c.Title))
}

func (p *Plugin) consultationData(ctx context.Context, v view, c *Consultation) (consultationData, error) {
	names, err := p.neighbourhoodNames(ctx, c.Neighbourhoods)
	if err != nil {
		return consultationData{}, err
	}
	d := consultationData{C: c, Where: whereText(v, c.Neighbourhoods, names), Who: whoMayTakePart(v, c, names),
		HasResults: c.Stage == StageResults || c.Stage == StageResponded}
	if d.Staff, err = p.svc.isStaff(ctx, v.pr); err != nil {
		return d, err
	}
	if c.Kind != KindIdeas && c.Stage != StageDraft {
		if d.Eligibility, err = p.svc.Eligibility(ctx, v.pr, c.ID); err != nil {
			return d, err
		}
	}
	return d, nil
}

// whoMayTakePart says in plain words who may answer c and how.
func whoMayTakePart(v view, c *Consultation, names map[string]string) []string {
	var out []string
	switch c.Participation {
	case ParticipationAnyone:
		out = append(out, v.T("consultations.page.who.anyone"))
	case ParticipationSignedIn:
		out = append(out, v.T("consultations.page.who.signed_in"))
	case ParticipationResidents:
		if len(c.Neighbourhoods) == 0 {
			out = append(out, v.T("consultations.page.who.residents_city"))
		} else {
			out = append(out, v.T("consultations.page.who.residents", "Neighbourhoods", whereText(v, c.Neighbourhoods, names)))
		}
	}
	if c.MinAge > 0 {
		out = append(out, v.loc.N("consultations.page.who.min_age", c.MinAge))
	}
	if c.Kind != KindIdeas {
		out = append(out, v.T("consultations.page.who.once"))
		if c.AnonymousAllowed {
			out = append(out, v.T("consultations.page.who.anonymous"))
		}
		if c.Editable {
			out = append(out, v.T("consultations.page.who.editable"))
		} else {
			out = append(out, v.T("consultations.page.who.final"))
		}
	}
	return out
}

// signInPath is the host's sign-in page, coming back to back.
func signInPath(back string) string { return "/sign-in?" + url.Values{"back": {back}}.Encode() }

// resultsData is the results page.
type resultsData struct {
	C         *Consultation
	R         *Results
	Questions []questionResultView
	CSV, JSON string
}

// questionResultView is one question's results as the page shows them: a chart and
// a table of the same figures.
type questionResultView struct {
	QuestionResult
	Number   int
	Chart    string
	ChartAlt string
	Table    web.Table
}

// resultsPage shows the published results, the city's response and the open data.
// Before publication it is 404, as the API's results are.
func (p *Plugin) resultsPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	id := r.PathValue("id")
	c, err := p.svc.Get(ctx, v.pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	res, err := p.svc.Results(ctx, v.pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := resultsData{C: c, R: res, CSV: api + "/" + id + "/results.csv", JSON: api + "/" + id + "/results"}
	for i, q := range res.Questions {
		d.Questions = append(d.Questions, questionResults(v, id, i+1, q, res.Answers))
	}
	return v.render(w, r, "results", d, v.meta(v.T("consultations.page.results.title", "Title", c.Title), crumb(c)))
}

// questionResults is question q's view: the chart's address and words, and the table.
func questionResults(v view, id string, n int, q QuestionResult, total int) questionResultView {
	qv := questionResultView{QuestionResult: q, Number: n}
	ch := resultChart(v, q)
	if len(ch.Bars) > 0 {
		qv.Chart, qv.ChartAlt = chartURL(id, q.QuestionID), ch.Desc
	}
	caption := v.T("consultations.page.results.caption", "Number", n, "Prompt", q.Prompt)
	switch {
	case q.Kind == QuestionRanking:
		qv.Table = web.Table{Caption: caption, RowHeaders: true, Columns: []web.Column{
			{Label: v.T("consultations.page.results.col.place"), Numeric: true},
			{Label: v.T("consultations.page.results.col.option")},
			{Label: v.T("consultations.page.results.col.borda"), Numeric: true}}}
		for _, o := range q.Options {
			qv.Table.Rows = append(qv.Table.Rows, []web.Cell{{Text: v.loc.Number(int64(o.Place))}, {Text: o.Label}, {Text: v.loc.Number(int64(o.Borda))}})
		}
	case q.Scale != nil:
		qv.Table = web.Table{Caption: caption, RowHeaders: true, Columns: []web.Column{
			{Label: v.T("consultations.page.results.col.point")},
			{Label: v.T("consultations.page.results.col.count"), Numeric: true},
			{Label: v.T("consultations.page.results.col.share"), Numeric: true}}}
		for _, s := range q.Scale.Counts {
			qv.Table.Rows = append(qv.Table.Rows, []web.Cell{{Text: v.loc.Number(int64(s.Value))}, {Text: v.loc.Number(int64(s.Count))},
				{Text: v.T("consultations.page.results.percent", "Percent", percent(int64(s.Count), int64(q.Answered)))}})
		}
	case len(q.Options) > 0:
		qv.Table = web.Table{Caption: caption, RowHeaders: true, Columns: []web.Column{
			{Label: v.T("consultations.page.results.col.option")},
			{Label: v.T("consultations.page.results.col.count"), Numeric: true},
			{Label: v.T("consultations.page.results.col.share"), Numeric: true}}}
		for _, o := range q.Options {
			qv.Table.Rows = append(qv.Table.Rows, []web.Cell{{Text: o.Label}, {Text: v.loc.Number(int64(o.Count))},
				{Text: v.T("consultations.page.results.percent", "Percent", percent(int64(o.Count), int64(q.Answered)))}})
		}
	}
	return qv
}

// resultChart is the chart of q's results in the viewer's language: counts per
// option, per point of a scale, or Borda scores of a ranking. Free text has none.
func resultChart(v view, q QuestionResult) chart {
	ch := chart{Title: q.Prompt}
	var parts []string
	add := func(label string, value int64, text string) {
		ch.Bars = append(ch.Bars, chartBar{Label: label, Value: value, Text: text})
		parts = append(parts, v.T("consultations.page.chart.item", "Label", label, "Value", text))
	}
	switch {
	case q.Kind == QuestionRanking:
		for _, o := range q.Options {
			add(o.Label, int64(o.Borda), v.loc.N("consultations.page.chart.points", o.Borda))
		}
		ch.Desc = v.T("consultations.page.chart.desc.ranking", "Items", strings.Join(parts, "; "))
		return ch
	case q.Scale != nil:
		for _, s := range q.Scale.Counts {
			add(v.loc.Number(int64(s.Value)), int64(s.Count), countText(v, s.Count, q.Answered))
		}
	case len(q.Options) > 0:
		for _, o := range q.Options {
			add(o.Label, int64(o.Count), countText(v, o.Count, q.Answered))
		}
	default:
		return ch
	}
	ch.Desc = v.loc.N("consultations.page.chart.desc", q.Answered, map[string]any{"Items": strings.Join(parts, "; ")})
	return ch
}

// countText is "12 (40 %)" in the viewer's language.
func countText(v view, count, total int) string {
	return v.T("consultations.page.chart.count", "Count", v.loc.Number(int64(count)),
		"Percent", v.T("consultations.page.results.percent", "Percent", percent(int64(count), int64(total))))
}

// chartSVG answers the chart of one question's results as an SVG image.
func (p *Plugin) chartSVG(w http.ResponseWriter, r *http.Request) error {
	ctx, v := r.Context(), p.viewOf(r)
	res, err := p.svc.Results(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(res.Questions, func(q QuestionResult) bool { return q.QuestionID == r.PathValue("question") })
	if i < 0 {
		return sdk.Errorf(sdk.CodeNotFound, "No such question.")
	}
	ch := resultChart(v, res.Questions[i])
	if len(ch.Bars) == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "A free-text question has no chart.")
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("X-Content-Type-Options", "nosniff")
	// The chart follows the results, which change only while a poll is live.
	h.Set("Cache-Control", "no-cache")
	_, err = w.Write(ch.svg())
	return err
}

// cardData is a card: a few consultations and a link to all.
type cardData struct {
	Cards []consultationCard
	More  string
}

// cardMax is how many consultations a card lists.
const cardMax = 5

// neighbourhoodCard lists, for the host's neighbourhood page, the open consultations
// for the neighbourhood and the city-wide ones.
func (p *Plugin) neighbourhoodCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	nbh := r.PathValue("nbh")
	page, err := p.svc.List(ctx, v.pr, ListFilter{Stage: StageOpen, Neighbourhood: nbh}, sdk.ListQuery{Limit: cardMax})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := cardData{More: pageBase + "?" + url.Values{"stage": {string(StageOpen)}, "neighbourhood": {nbh}}.Encode()}
	if d.Cards, err = p.cards(ctx, v, page.Items); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "card", d, sdk.PageMeta{Title: v.T("consultations.card.title")})
}

// homeCard lists, on a signed-in resident's home page, the open consultations of
// their neighbourhoods and the city-wide ones.
func (p *Plugin) homeCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	seen := map[string]bool{}
	var cs []Consultation
	nbhs := append([]string{""}, v.pr.Neighbourhoods...)
	for _, nbh := range nbhs {
		// Without a neighbourhood the list holds every open one, of which only the
		// city-wide count here: ask for as many as a page holds.
		limit := cardMax
		if nbh == "" {
			limit = sdk.MaxLimit
		}
		page, err := p.svc.List(ctx, v.pr, ListFilter{Stage: StageOpen, Neighbourhood: nbh}, sdk.ListQuery{Limit: limit})
		if err != nil {
			return sdk.PageMeta{}, err
		}
		for _, c := range page.Items {
			if !seen[c.ID] && (nbh != "" || len(c.Neighbourhoods) == 0) {
				seen[c.ID] = true
				cs = append(cs, c)
			}
		}
	}
	slices.SortFunc(cs, func(a, b Consultation) int { return a.closedAt().Compare(b.closedAt()) })
	if len(cs) > cardMax {
		cs = cs[:cardMax]
	}
	d := cardData{More: pageBase + "?" + url.Values{"stage": {string(StageOpen)}}.Encode()}
	var err error
	if d.Cards, err = p.cards(ctx, v, cs); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "card", d, sdk.PageMeta{Title: v.T("consultations.card.home.title")})
}
