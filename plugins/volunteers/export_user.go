package volunteers

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: their volunteer profile (birth
// date included, which organisers never see) and their applications and shifts.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	sets := []store.RecordSet{
		{Key: "profile", Query: `SELECT skills, tags, languages, availability, unavailable, neighbourhoods, max_weekly_minutes,
			birth_date, check_status, check_expires, created_at, updated_at FROM profiles WHERE user_id = ?`,
			Micros: []string{"created_at", "updated_at"}},
		{Key: "applications", Query: `SELECT a.id, a.opportunity_id, o.title AS opportunity, a.shift_id, s.starts_at, s.ends_at,
			a.status, a.origin, a.minutes, a.created_at
			FROM applications a JOIN shifts s ON s.id = a.shift_id JOIN opportunities o ON o.id = a.opportunity_id
			WHERE a.volunteer_id = ? ORDER BY s.starts_at`,
			Micros: []string{"starts_at", "ends_at", "created_at"}},
		{Key: "opportunities_created", Query: `SELECT id, title, state, created_at FROM opportunities WHERE created_by = ? ORDER BY created_at`,
			Micros: []string{"created_at"}},
	}
	data, err := store.PersonalRecords(ctx, p.db, userID, sets)
	if err != nil {
		return sdk.PersonalData{}, err
	}
	return sdk.PersonalData{Data: data, Fields: exportFields}, nil
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"profile":                    "Your volunteer profile, if you made one: skills, languages, weekly availability, dates away (unavailable), neighbourhoods and the most minutes a week you offer.",
	"profile.birth_date":         "Your birth date, used only to check an opportunity's minimum age; organisers see only whether you meet it.",
	"profile.check_status":       "The state of your background check (none, pending, cleared or rejected) and when it expires (check_expires).",
	"applications":               "Shifts you applied to, were invited to or signed up for.",
	"applications.status":        "applied, invited, accepted, confirmed, waitlisted, declined, withdrawn, attended or no_show.",
	"applications.minutes":       "Minutes you were recorded as volunteering on the shift.",
	"opportunities_created":      "Volunteer opportunities you posted for an organisation.",
	"applications.origin":        "How the application began: you applied, or an organiser invited you.",
	"applications.starts_at":     "Start and end of the shift (ends_at), in UTC.",
	"profile.max_weekly_minutes": "The most minutes a week you offer; 0 means no limit.",
}

// dataUses are what the plugin keeps about people, as the city's privacy page says it.
var dataUses = []sdk.DataUse{
	{ID: "profile",
		What: map[string]string{
			"en": "Your volunteer profile: skills, languages, when you are free, neighbourhoods and your birth date.",
			"fi": "Vapaaehtoisprofiilisi: taidot, kielet, milloin olet vapaana, asuinalueet ja syntymäaikasi.",
			"sv": "Din volontärprofil: färdigheter, språk, när du är ledig, stadsdelar och ditt födelsedatum.",
			"da": "Din frivilligprofil: færdigheder, sprog, hvornår du har tid, bydele og din fødselsdato.",
			"tr": "Gönüllü profiliniz: becerileriniz, dilleriniz, ne zaman müsait olduğunuz, mahalleleriniz ve doğum tarihiniz.",
		},
		Why: map[string]string{
			"en": "To suggest shifts that fit you and to check an opportunity's minimum age. Organisers see only whether you meet the age, never your birth date.",
			"fi": "Jotta sinulle voidaan ehdottaa sopivia vuoroja ja tarkistaa tehtävän alaikäraja. Järjestäjät näkevät vain, täytätkö ikärajan, eivät koskaan syntymäaikaasi.",
			"sv": "För att föreslå pass som passar dig och kontrollera ett uppdrags åldersgräns. Arrangörerna ser bara om du uppfyller åldersgränsen, aldrig ditt födelsedatum.",
			"da": "For at foreslå vagter, der passer dig, og kontrollere en opgaves aldersgrænse. Arrangørerne ser kun, om du opfylder alderskravet, aldrig din fødselsdato.",
			"tr": "Size uygun vardiyaları önermek ve bir görevin alt yaş sınırını kontrol etmek için. Düzenleyiciler doğum tarihinizi asla görmez, yalnızca yaş koşulunu karşılayıp karşılamadığınızı görür.",
		},
		Kept: map[string]string{
			"en": "Until you delete your profile or your account.",
			"fi": "Kunnes poistat profiilisi tai tilisi.",
			"sv": "Tills du raderar din profil eller ditt konto.",
			"da": "Indtil du sletter din profil eller din konto.",
			"tr": "Profilinizi ya da hesabınızı silene kadar.",
		},
	},
	{ID: "applications",
		What: map[string]string{
			"en": "Your applications and invitations, the shifts you take and the hours you give.",
			"fi": "Hakemuksesi ja kutsusi, ottamasi vuorot ja antamasi tunnit.",
			"sv": "Dina ansökningar och inbjudningar, de pass du tar och de timmar du ger.",
			"da": "Dine ansøgninger og invitationer, de vagter du tager, og de timer du giver.",
			"tr": "Başvurularınız ve davetleriniz, aldığınız vardiyalar ve verdiğiniz saatler.",
		},
		Why: map[string]string{
			"en": "So that organisers can plan their shifts and record your volunteering.",
			"fi": "Jotta järjestäjät voivat suunnitella vuoronsa ja kirjata vapaaehtoistyösi.",
			"sv": "Så att arrangörerna kan planera sina pass och registrera ditt volontärarbete.",
			"da": "Så arrangørerne kan planlægge deres vagter og registrere dit frivillige arbejde.",
			"tr": "Düzenleyicilerin vardiyalarını planlayabilmesi ve gönüllülüğünüzü kaydedebilmesi için.",
		},
		Kept: map[string]string{
			"en": "Until you delete your account.",
			"fi": "Kunnes poistat tilisi.",
			"sv": "Tills du raderar ditt konto.",
			"da": "Indtil du sletter din konto.",
			"tr": "Hesabınızı silene kadar.",
		},
	},
}
