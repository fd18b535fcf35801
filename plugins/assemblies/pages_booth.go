package assemblies

import (
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The booth answers a cast ballot with its confirmation, not with a redirect to it: a
// voter's cast-and-confirm is one request, as the JSON ballot is (issue 18 wants the
// booth within 10% of it), and the confirmation needs nothing the ballot's statement
// has not just told: the booth repeats no choice — an address or a screen can be
// shared, and must not tell how someone voted — so every voter of a vote sees the same
// confirmation, drawn once per language and kept by the page memo. Reloading the page
// sends the form again, which a vote that allows changes takes as the same ballot and
// one that does not refuses as already cast, with the booth below saying so.

// pageMemo keeps the pages' drawn markup that is the same for everyone (web.Memo).
var pageMemo = web.NewMemo(0)

// boothKey is everything the confirmation shows: the motion (title, text and
// electorate do not change while its vote is open) in one vote round, and how that
// vote is held. The language is the template's.
type boothKey struct {
	Assembly, Motion   string
	OpenedAt           int64
	Secret, Changeable bool
}

// boothConfirmation answers the ballot rc with the booth's confirmation.
func (p *Plugin) boothConfirmation(pg *pageCtx, assemblyID, motionID string, rc Receipt) (sdk.PageMeta, error) {
	a, err := p.assemblyFor(pg, assemblyID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	m, err := p.boothMotion(pg, assemblyID, motionID, rc.round.OpenedAt)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	lang := pg.loc.Lang()
	key := boothKey{Assembly: a.ID, Motion: m.ID, OpenedAt: rc.round.OpenedAt, Secret: rc.round.Secret, Changeable: rc.round.Changeable}
	answerKey := boothAnswerKey{boothKey: key, Lang: lang, AssemblyName: a.Name}
	cacheKey := nameKey{p.svc, m.ID + "\x00" + lang}
	if c, ok := boothAnswers.get(cacheKey); ok && c.key == answerKey {
		return sdk.PageMeta{}, web.WriteContent(pg.w, pg.r, 200, c.body, c.meta)
	}
	v := boothView{A: a, M: m, Secret: rc.round.Secret, Change: rc.round.Changeable, Open: true, Cast: true,
		Form: web.NewForm(nil), Self: boothPath(a.ID, m.ID), Motion: motionPath(a.ID, m.ID), Electors: m.Vote.Electorate,
		Status: BallotStatus{Eligible: true, Voted: true, CanChange: rc.round.Changeable}}
	for _, c := range Choices {
		v.Choices = append(v.Choices, web.Option{Value: c, Label: pg.t("assemblies.choice." + c)})
	}
	body, err := pageMemo.BytesFor(key, pg.kit.For(lang), "booth", v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := pg.meta(pg.t("assemblies.booth.title", "Motion", m.Title), sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)},
		sdk.Crumb{Label: m.Title, Href: v.Motion}, sdk.Crumb{Label: pg.t("assemblies.booth.crumb"), Href: v.Self})
	meta.Announce = pg.t("assemblies.done.cast")
	boothAnswers.put(cacheKey, boothAnswer{key: answerKey, body: body, meta: meta})
	return sdk.PageMeta{}, web.WriteContent(pg.w, pg.r, 200, body, meta)
}

// boothAnswers keep the whole confirmation, its markup and its title, crumbs and
// announcement, per vote round and language: the same for every voter of the round,
// so its words are looked up once (issue 18's booth against the JSON ballot). The
// motion's title is the round's (boothKey); the assembly's name is in the key, since
// a rename may come during a vote.
var boothAnswers = newPageCache[boothAnswer]()

type boothAnswer struct {
	key  boothAnswerKey
	body []byte
	meta sdk.PageMeta
}

type boothAnswerKey struct {
	boothKey
	Lang, AssemblyName string
}

// boothMotion is the motion in its vote round openedAt (Unix microseconds), as the
// booth shows it: kept from the round's first confirmation, since nothing of it
// changes until the vote closes, and a later round (the motion put to the vote again)
// has another openedAt.
func (p *Plugin) boothMotion(pg *pageCtx, assemblyID, motionID string, openedAt int64) (Motion, error) {
	key := nameKey{p.svc, motionID}
	if c, ok := boothMotions.get(key); ok && c.openedAt == openedAt && c.m.AssemblyID == assemblyID {
		return c.m, nil
	}
	row, err := getMotion(pg.ctx, p.svc.db, assemblyID, motionID)
	if err != nil {
		return Motion{}, err
	}
	m := row.motion(p.svc.Now())
	if m.Vote == nil {
		return Motion{}, sdk.Errorf(sdk.CodeNotFound, "motion %q has not been put to the vote", m.ID)
	}
	if m.State == StateVoting && m.Vote.OpenedAt.UnixMicro() == openedAt {
		boothMotions.put(key, boothCached{openedAt, m})
	}
	return m, nil
}

var boothMotions = newPageCache[boothCached]()

type boothCached struct {
	openedAt int64
	m        Motion
}
