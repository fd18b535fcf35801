package budgeting

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: proposals written, proposals
// supported, and the cycles they voted in. Ballots name nobody (they are kept under a
// receipt token's hash), so the export says that the person voted, never how.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	sets := []store.RecordSet{
		{Key: "proposals", Query: `SELECT id, cycle_id, title, description, category, location, cost, status, reason, created_at
			FROM proposals WHERE author_id = ? ORDER BY created_at`,
			Micros: []string{"created_at"}},
		{Key: "attachments", Query: `SELECT a.proposal_id, pr.title AS proposal, a.kind, a.text, a.upload_id, a.added_at
			FROM attachments a JOIN proposals pr ON pr.id = a.proposal_id WHERE a.added_by = ? ORDER BY a.added_at`,
			Micros: []string{"added_at"}},
		{Key: "supports", Query: `SELECT s.proposal_id, pr.title FROM supports s JOIN proposals pr ON pr.id = s.proposal_id
			WHERE s.user_id = ? ORDER BY pr.created_at`},
		{Key: "voted_in", Query: `SELECT v.cycle_id, c.name AS cycle FROM voters v JOIN cycles c ON c.id = v.cycle_id
			WHERE v.user_id = ? ORDER BY c.created_at`},
	}
	data, err := store.PersonalRecords(ctx, p.db, userID, sets)
	if err != nil {
		return sdk.PersonalData{}, err
	}
	return sdk.PersonalData{Data: data, Fields: exportFields}, nil
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"proposals":        "Projects you proposed for a participatory budget, with their text, cost (in the currency's smallest unit) and review status.",
	"proposals.reason": "Why the proposal was rejected or changed in review, if it was.",
	"attachments":      "Photos and documents you added to proposals or to reports on funded projects, with what each shows; the files themselves are in the uploads part of this export.",
	"supports":         "Proposals you supported during a support phase.",
	"voted_in":         "Budgeting cycles in which you cast a ballot. Which projects you chose is not here: ballots are stored without your name, so nobody, Kvarter included, can link them to you.",
}

// dataUses are what the plugin keeps about people, as the city's privacy page says it.
var dataUses = []sdk.DataUse{
	{ID: "proposals",
		What: map[string]string{
			"en": "Projects you propose for the participatory budget, with you as their author.",
			"fi": "Osallistuvaan budjetointiin ehdottamasi hankkeet, joiden tekijäksi sinut merkitään.",
			"sv": "Projekt som du föreslår i medborgarbudgeten, med dig som förslagsställare.",
			"da": "Projekter, du foreslår til borgerbudgettet, med dig som forslagsstiller.",
			"tr": "Katılımcı bütçe için önerdiğiniz projeler ve öneri sahibi olarak adınız.",
		},
		Why: map[string]string{
			"en": "So that city staff can review them and put them on the ballot.",
			"fi": "Jotta kaupungin työntekijät voivat arvioida ne ja viedä ne äänestykseen.",
			"sv": "Så att stadens tjänstepersoner kan granska dem och ta med dem på röstsedeln.",
			"da": "Så byens medarbejdere kan vurdere dem og sætte dem på stemmesedlen.",
			"tr": "Belediye çalışanlarının onları inceleyip oy pusulasına koyabilmesi için.",
		},
		Kept: map[string]string{
			"en": "As long as the budget's records are kept; if you delete your account the project stays without your name.",
			"fi": "Niin kauan kuin budjetin tiedot säilytetään; jos poistat tilisi, hanke säilyy ilman nimeäsi.",
			"sv": "Så länge budgetens handlingar sparas; om du raderar ditt konto finns projektet kvar utan ditt namn.",
			"da": "Så længe budgettets oplysninger gemmes; hvis du sletter din konto, bliver projektet stående uden dit navn.",
			"tr": "Bütçe kayıtları saklandığı sürece; hesabınızı silerseniz proje adınız olmadan kalır.",
		},
	},
	{ID: "participation",
		What: map[string]string{
			"en": "Which proposals you supported, and that you voted in a budget — never which projects you chose.",
			"fi": "Mitä ehdotuksia kannatit ja että äänestit budjetissa — ei koskaan sitä, mitä hankkeita valitsit.",
			"sv": "Vilka förslag du stödde och att du röstade i en budget — aldrig vilka projekt du valde.",
			"da": "Hvilke forslag du støttede, og at du stemte i et budget — aldrig hvilke projekter du valgte.",
			"tr": "Hangi önerileri desteklediğiniz ve bir bütçede oy kullandığınız — hangi projeleri seçtiğiniz asla.",
		},
		Why: map[string]string{
			"en": "So that each resident supports and votes once. Ballots are kept without names, so nobody can link your choices to you.",
			"fi": "Jotta jokainen asukas kannattaa ja äänestää vain kerran. Äänestyslipukkeet säilytetään ilman nimiä, joten kukaan ei voi yhdistää valintojasi sinuun.",
			"sv": "Så att varje invånare stödjer och röstar en gång. Röstsedlarna sparas utan namn, så ingen kan koppla dina val till dig.",
			"da": "Så hver borger støtter og stemmer én gang. Stemmesedlerne gemmes uden navne, så ingen kan forbinde dine valg med dig.",
			"tr": "Her sakinin yalnızca bir kez destek verip oy kullanması için. Oy pusulaları isimsiz saklanır; kimse seçimlerinizi sizinle ilişkilendiremez.",
		},
		Kept: map[string]string{
			"en": "As long as the budget's records are kept; after you delete your account they stay counted under a random code.",
			"fi": "Niin kauan kuin budjetin tiedot säilytetään; tilin poiston jälkeen ne pysyvät laskettuina satunnaisen tunnisteen alla.",
			"sv": "Så länge budgetens handlingar sparas; när du har raderat ditt konto räknas de under en slumpmässig kod.",
			"da": "Så længe budgettets oplysninger gemmes; når du har slettet din konto, tæller de med under en tilfældig kode.",
			"tr": "Bütçe kayıtları saklandığı sürece; hesabınızı sildikten sonra rastgele bir kodla sayılmaya devam eder.",
		},
	},
}
