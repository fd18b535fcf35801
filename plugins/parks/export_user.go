package parks

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: the bookings they requested, with
// the contact details they gave, and those they decided as a park manager.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	sets := []store.RecordSet{
		{Key: "bookings_requested", Query: `SELECT b.id, b.park_id, pk.name AS park, b.organisation_name, b.title, b.description, b.status,
			b.public, b.expected_attendance, b.accessibility_notes, b.contact_name, b.contact_email, b.contact_phone,
			b.start_us, b.end_us, b.reason, b.created_at
			FROM bookings b JOIN parks pk ON pk.id = b.park_id WHERE b.requester_id = ? ORDER BY b.start_us`,
			Micros: []string{"start_us", "end_us", "created_at"}},
		{Key: "bookings_decided", Query: `SELECT id, park_id, title, status, reason, updated_at FROM bookings WHERE decided_by = ? ORDER BY start_us`,
			Micros: []string{"updated_at"}},
	}
	data, err := store.PersonalRecords(ctx, p.db, userID, sets)
	if err != nil {
		return sdk.PersonalData{}, err
	}
	return sdk.PersonalData{Data: data, Fields: exportFields}, nil
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"bookings_requested":               "Park bookings and event requests you made, for yourself or an organisation.",
	"bookings_requested.contact_phone": "The contact details you gave with the request (contact_name, contact_email, contact_phone); only park managers see them.",
	"bookings_requested.start_us":      "Start and end of the booking (end_us), in UTC.",
	"bookings_requested.status":        "requested, approved, rejected or cancelled; reason says why it was rejected or cancelled.",
	"bookings_decided":                 "Requests you approved, rejected or cancelled as a park manager.",
}

// dataUses are what the plugin keeps about people, as the city's privacy page says it.
var dataUses = []sdk.DataUse{
	{ID: "bookings",
		What: map[string]string{
			"en": "Your booking requests: the time and place, what you plan, and the contact name, email address and phone number you give.",
			"fi": "Varauspyyntösi: aika ja paikka, mitä suunnittelet sekä antamasi yhteyshenkilön nimi, sähköpostiosoite ja puhelinnumero.",
			"sv": "Dina bokningsförfrågningar: tid och plats, vad du planerar och det kontaktnamn, den e-postadress och det telefonnummer du anger.",
			"da": "Dine bookinganmodninger: tid og sted, hvad du planlægger, og det kontaktnavn, den e-mailadresse og det telefonnummer, du opgiver.",
			"tr": "Rezervasyon talepleriniz: zaman ve yer, planladığınız etkinlik ve verdiğiniz iletişim adı, e-posta adresi ve telefon numarası.",
		},
		Why: map[string]string{
			"en": "So that park managers can decide on the request and reach you about the event. Only they see the contact details.",
			"fi": "Jotta puistojen hoitajat voivat päättää pyynnöstä ja tavoittaa sinut tapahtumaa koskevissa asioissa. Vain he näkevät yhteystiedot.",
			"sv": "Så att parkförvaltarna kan besluta om förfrågan och nå dig om evenemanget. Bara de ser kontaktuppgifterna.",
			"da": "Så parkens ansvarlige kan afgøre anmodningen og kontakte dig om arrangementet. Kun de ser kontaktoplysningerne.",
			"tr": "Park yöneticilerinin talebe karar verip etkinlikle ilgili size ulaşabilmesi için. İletişim bilgilerini yalnızca onlar görür.",
		},
		Kept: map[string]string{
			"en": "Contact details until you delete your account; a public event's title and time stay on the calendar.",
			"fi": "Yhteystiedot siihen asti, kun poistat tilisi; julkisen tapahtuman nimi ja aika jäävät kalenteriin.",
			"sv": "Kontaktuppgifterna tills du raderar ditt konto; ett offentligt evenemangs titel och tid finns kvar i kalendern.",
			"da": "Kontaktoplysningerne, indtil du sletter din konto; et offentligt arrangements titel og tidspunkt bliver i kalenderen.",
			"tr": "İletişim bilgileri hesabınızı silene kadar; herkese açık bir etkinliğin adı ve saati takvimde kalır.",
		},
	},
}
