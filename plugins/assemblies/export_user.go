package assemblies

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: memberships, meetings attended,
// motions written, sponsored and answered, votes cast — with the choice of a named
// vote, and of a secret vote only that they voted, which is all the store can tell.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	sets := []store.RecordSet{
		{Key: "memberships", Query: `SELECT m.assembly_id, a.name AS assembly, m.kind, m.organisation_id, m.status, m.position,
			m.term_start, m.term_end, m.applied_at, m.joined_at, m.ended_at, m.end_reason
			FROM members m JOIN assemblies a ON a.id = m.assembly_id WHERE m.user_id = ? ORDER BY m.applied_at`,
			Micros: []string{"term_start", "term_end", "applied_at", "joined_at", "ended_at"}},
		{Key: "attendance", Query: `SELECT a.meeting_id, me.title AS meeting, me.starts_at FROM attendance a
			JOIN meetings me ON me.id = a.meeting_id WHERE a.user_id = ? ORDER BY me.starts_at`,
			Micros: []string{"starts_at"}},
		{Key: "motions_written", Query: `SELECT id, assembly_id, title, text, state, created_at FROM motions WHERE author_id = ? ORDER BY created_at`,
			Micros: []string{"created_at"}},
		{Key: "motions_sponsored", Query: `SELECT s.motion_id, mo.title FROM sponsors s JOIN motions mo ON mo.id = s.motion_id
			WHERE s.user_id = ? ORDER BY mo.created_at`},
		{Key: "votes", Query: `SELECT v.motion_id, mo.title, mo.secrecy, COALESCE(nb.choice, '') AS choice FROM voters v
			JOIN motions mo ON mo.id = v.motion_id
			LEFT JOIN named_ballots nb ON nb.motion_id = v.motion_id AND nb.user_id = v.user_id
			WHERE v.user_id = ? ORDER BY mo.vote_opened_at`},
		{Key: "answers_given", Query: `SELECT id AS motion_id, title, answer_decision, answer_reasoning, answered_at FROM motions
			WHERE answered_by = ? ORDER BY answered_at`,
			Micros: []string{"answered_at"}},
		{Key: "actions", Query: `SELECT motion_id, kind, at FROM timeline WHERE actor_id = ? ORDER BY id`,
			Micros: []string{"at"}},
	}
	data, err := store.PersonalRecords(ctx, p.db, userID, sets)
	if err != nil {
		return sdk.PersonalData{}, err
	}
	return sdk.PersonalData{Data: data, Fields: exportFields}, nil
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"memberships":                   "The assemblies you belong to, applied to or left.",
	"memberships.kind":              "resident, or organisation when you sit for an organisation (organisation_id).",
	"memberships.status":            "pending (applied), active, rejected, left or removed.",
	"memberships.position":          "Your position: member, chair, vice_chair or secretary.",
	"memberships.term_start":        "Start and end of your term, when the assembly has terms (term_end).",
	"memberships.applied_at":        "When you applied; joined_at when you were accepted, ended_at and end_reason when your membership ended.",
	"attendance":                    "Meetings recorded as attended by you, with the meeting's title and start.",
	"motions_written":               "Motions you wrote, with their text and state. If you delete your account their text stays, without your name.",
	"motions_sponsored":             "Motions you co-sponsored.",
	"votes":                         "Votes you took part in.",
	"votes.secrecy":                 "named (everyone may see each member's choice) or secret.",
	"votes.choice":                  "Your choice in a named vote. Empty for a secret vote: your choice was sealed and counted apart from your name, so nobody, Kvarter included, can tell how you voted.",
	"answers_given":                 "The city's answers to adopted motions that you gave as a city responder.",
	"actions":                       "Steps on motions' public timelines that you took (tabled, opened a vote, answered...), with when.",
	"answers_given.answer_decision": "accepted, partly_accepted or declined.",
}

// dataUses are what the plugin keeps about people, as the city's privacy page says it.
var dataUses = []sdk.DataUse{
	{ID: "membership",
		What: map[string]string{
			"en": "Your membership of an assembly: when you applied and joined, your position and the organisation you represent.",
			"fi": "Jäsenyytesi asukasfoorumissa: milloin hait ja liityit, asemasi ja edustamasi järjestö.",
			"sv": "Ditt medlemskap i en församling: när du ansökte och gick med, din roll och den förening du företräder.",
			"da": "Dit medlemskab af en forsamling: hvornår du søgte og blev optaget, din rolle og den forening, du repræsenterer.",
			"tr": "Bir meclisteki üyeliğiniz: ne zaman başvurup katıldığınız, göreviniz ve temsil ettiğiniz kuruluş.",
		},
		Why: map[string]string{
			"en": "To know who may vote and speak, and to show the public who the members are, unless the city hides them.",
			"fi": "Jotta tiedetään, kuka saa äänestää ja puhua, ja jotta jäsenet voidaan näyttää julkisesti, ellei kaupunki piilota heitä.",
			"sv": "För att veta vem som får rösta och yttra sig, och för att visa allmänheten vilka ledamöterna är, om inte staden döljer dem.",
			"da": "For at vide, hvem der må stemme og tage ordet, og for at vise offentligheden, hvem medlemmerne er, medmindre byen skjuler dem.",
			"tr": "Kimin oy kullanıp söz alabileceğini bilmek ve belediye gizlemediği sürece üyeleri kamuya göstermek için.",
		},
		Kept: map[string]string{
			"en": "While you are a member and afterwards as part of the assembly's record; erased when you delete your account.",
			"fi": "Jäsenyytesi ajan ja sen jälkeen osana foorumin pöytäkirjoja; poistetaan, kun poistat tilisi.",
			"sv": "Så länge du är medlem och därefter som en del av församlingens handlingar; raderas när du raderar ditt konto.",
			"da": "Så længe du er medlem og derefter som en del af forsamlingens arkiv; slettes, når du sletter din konto.",
			"tr": "Üye olduğunuz sürece ve sonrasında meclis kayıtlarının bir parçası olarak; hesabınızı sildiğinizde silinir.",
		},
	},
	{ID: "motions",
		What: map[string]string{
			"en": "Motions you write or co-sponsor, and the steps you take on them.",
			"fi": "Aloitteet, jotka kirjoitat tai allekirjoitat, ja niiden käsittelyssä tekemäsi toimet.",
			"sv": "Motioner som du skriver eller står bakom, och de steg du tar i deras behandling.",
			"da": "Forslag, som du skriver eller støtter som medforslagsstiller, og de skridt, du tager i deres behandling.",
			"tr": "Yazdığınız ya da ortak imzaladığınız önergeler ve bunlar üzerinde attığınız adımlar.",
		},
		Why: map[string]string{
			"en": "Motions and the city's answers are the assembly's public record.",
			"fi": "Aloitteet ja kaupungin vastaukset ovat foorumin julkinen asiakirja-aineisto.",
			"sv": "Motionerna och stadens svar är församlingens offentliga handlingar.",
			"da": "Forslagene og byens svar er forsamlingens offentlige arkiv.",
			"tr": "Önergeler ve belediyenin yanıtları meclisin kamuya açık kaydıdır.",
		},
		Kept: map[string]string{
			"en": "As long as the record is kept; if you delete your account, the text stays and its author becomes “a former member”.",
			"fi": "Niin kauan kuin aineisto säilytetään; jos poistat tilisi, teksti säilyy ja sen tekijäksi merkitään ”entinen jäsen”.",
			"sv": "Så länge handlingarna sparas; om du raderar ditt konto står texten kvar och författaren blir ”en tidigare ledamot”.",
			"da": "Så længe arkivet gemmes; hvis du sletter din konto, bliver teksten stående, og forslagsstilleren bliver til “et tidligere medlem”.",
			"tr": "Kayıt saklandığı sürece; hesabınızı silerseniz metin kalır ve sahibi “eski bir üye” olarak görünür.",
		},
	},
	{ID: "votes",
		What: map[string]string{
			"en": "That you voted, and your choice when the vote is named.",
			"fi": "Tieto siitä, että äänestit, ja valintasi, kun äänestys on avoin.",
			"sv": "Att du har röstat, och ditt val när omröstningen är öppen.",
			"da": "At du har stemt, og dit valg, når afstemningen er åben.",
			"tr": "Oy kullandığınız bilgisi ve oylama açıksa seçiminiz.",
		},
		Why: map[string]string{
			"en": "To count each member once and to publish named votes. In a secret vote your choice is sealed apart from your name: nobody can link it to you.",
			"fi": "Jotta jokainen jäsen lasketaan kerran ja avoimet äänestykset voidaan julkaista. Salaisessa äänestyksessä valintasi sinetöidään erilleen nimestäsi: kukaan ei voi yhdistää sitä sinuun.",
			"sv": "För att räkna varje ledamot en gång och publicera öppna omröstningar. I en sluten omröstning förseglas ditt val skilt från ditt namn: ingen kan koppla det till dig.",
			"da": "For at tælle hvert medlem én gang og offentliggøre åbne afstemninger. Ved en hemmelig afstemning forsegles dit valg adskilt fra dit navn: ingen kan forbinde det med dig.",
			"tr": "Her üyeyi bir kez saymak ve açık oylamaları yayımlamak için. Gizli oylamada seçiminiz adınızdan ayrı olarak mühürlenir: kimse onu sizinle ilişkilendiremez.",
		},
		Kept: map[string]string{
			"en": "As long as the vote's record is kept; after you delete your account your vote stays counted under a random code.",
			"fi": "Niin kauan kuin äänestyksen tiedot säilytetään; tilin poiston jälkeen äänesi pysyy laskettuna satunnaisen tunnisteen alla.",
			"sv": "Så länge omröstningens handlingar sparas; när du har raderat ditt konto räknas din röst under en slumpmässig kod.",
			"da": "Så længe afstemningens oplysninger gemmes; når du har slettet din konto, tæller din stemme med under en tilfældig kode.",
			"tr": "Oylama kaydı saklandığı sürece; hesabınızı sildikten sonra oyunuz rastgele bir kodla sayılmaya devam eder.",
		},
	},
}
