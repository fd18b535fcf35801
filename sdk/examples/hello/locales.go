package hello

import (
	"fmt"
	"strings"
)

// Hello's text in every language a Kvarter city speaks. Message IDs say where each is
// used. Plugins with more to say keep TOML catalogs with the SDK's localizer; hello
// keeps a map, so that the reference plugin needs nothing but html/template.
var messages = map[string]map[string]string{
	"en": {
		"hello.nav":                "Greetings",
		"hello.greet.title":        "Send a greeting",
		"hello.greet.intro":        "Send your neighbours a short greeting. It is kept with your other greetings.",
		"hello.greet.message":      "Your message",
		"hello.greet.message.hint": "Up to %d characters.",
		"hello.greet.send":         "Send",
		"hello.greet.sent":         "Your greeting was sent.",
		"hello.error.summary":      "There is a problem",
		"hello.error.prefix":       "Error:",
		"hello.error.required":     "Enter a message.",
		"hello.error.max_length":   "The message must be %d characters or fewer.",
		"hello.error.format":       "The message contains characters that cannot be saved.",
		"hello.card.title":         "Your greetings",
		"hello.card.none":          "You have not sent any greetings yet.",
		"hello.card.count.one":     "You have sent %d greeting.",
		"hello.card.count.other":   "You have sent %d greetings.",
		"hello.card.link":          "Send a greeting",

		// The greeting's photo, which the host receives (uploads).
		"hello.greet.photo":            "Photo (optional)",
		"hello.greet.photo.hint":       "A JPEG or PNG photo of up to %d MB. Its location data is removed.",
		"hello.greet.photo.alt":        "The photo you sent",
		"hello.error.upload_kind":      "Choose a JPEG or PNG photo.",
		"hello.error.upload_damaged":   "The photo is damaged or incomplete. Choose it again.",
		"hello.error.upload_pixels":    "The photo is too large. Choose a smaller one.",
		"hello.error.upload_empty":     "The chosen photo is empty.",
		"hello.error.upload_too_large": "The photo is too large. Choose a smaller one.",
	},
	"fi": {
		"hello.nav":                "Tervehdykset",
		"hello.greet.title":        "Lähetä tervehdys",
		"hello.greet.intro":        "Lähetä naapureillesi lyhyt tervehdys. Se tallentuu muiden tervehdystesi joukkoon.",
		"hello.greet.message":      "Viestisi",
		"hello.greet.message.hint": "Enintään %d merkkiä.",
		"hello.greet.send":         "Lähetä",
		"hello.greet.sent":         "Tervehdyksesi on lähetetty.",
		"hello.error.summary":      "Lomakkeessa on virhe",
		"hello.error.prefix":       "Virhe:",
		"hello.error.required":     "Kirjoita viesti.",
		"hello.error.max_length":   "Viestissä saa olla enintään %d merkkiä.",
		"hello.error.format":       "Viestissä on merkkejä, joita ei voi tallentaa.",
		"hello.card.title":         "Tervehdyksesi",
		"hello.card.none":          "Et ole vielä lähettänyt tervehdyksiä.",
		"hello.card.count.one":     "Olet lähettänyt %d tervehdyksen.",
		"hello.card.count.other":   "Olet lähettänyt %d tervehdystä.",
		"hello.card.link":          "Lähetä tervehdys",

		// The greeting's photo, which the host receives (uploads).
		"hello.greet.photo":            "Valokuva (vapaaehtoinen)",
		"hello.greet.photo.hint":       "JPEG- tai PNG-kuva, enintään %d Mt. Kuvan sijaintitiedot poistetaan.",
		"hello.greet.photo.alt":        "Lähettämäsi valokuva",
		"hello.error.upload_kind":      "Valitse JPEG- tai PNG-kuva.",
		"hello.error.upload_damaged":   "Kuva on vioittunut tai keskeneräinen. Valitse se uudelleen.",
		"hello.error.upload_pixels":    "Kuva on liian suuri. Valitse pienempi kuva.",
		"hello.error.upload_empty":     "Valitsemasi kuva on tyhjä.",
		"hello.error.upload_too_large": "Kuva on liian suuri. Valitse pienempi kuva.",
	},
	"sv": {
		"hello.nav":                "Hälsningar",
		"hello.greet.title":        "Skicka en hälsning",
		"hello.greet.intro":        "Skicka en kort hälsning till dina grannar. Den sparas tillsammans med dina andra hälsningar.",
		"hello.greet.message":      "Ditt meddelande",
		"hello.greet.message.hint": "Högst %d tecken.",
		"hello.greet.send":         "Skicka",
		"hello.greet.sent":         "Din hälsning har skickats.",
		"hello.error.summary":      "Något behöver rättas",
		"hello.error.prefix":       "Fel:",
		"hello.error.required":     "Skriv ett meddelande.",
		"hello.error.max_length":   "Meddelandet får vara högst %d tecken.",
		"hello.error.format":       "Meddelandet innehåller tecken som inte kan sparas.",
		"hello.card.title":         "Dina hälsningar",
		"hello.card.none":          "Du har inte skickat några hälsningar än.",
		"hello.card.count.one":     "Du har skickat %d hälsning.",
		"hello.card.count.other":   "Du har skickat %d hälsningar.",
		"hello.card.link":          "Skicka en hälsning",

		// The greeting's photo, which the host receives (uploads).
		"hello.greet.photo":            "Foto (frivilligt)",
		"hello.greet.photo.hint":       "Ett foto i JPEG- eller PNG-format på högst %d MB. Platsuppgifterna tas bort.",
		"hello.greet.photo.alt":        "Fotot du skickade",
		"hello.error.upload_kind":      "Välj ett foto i JPEG- eller PNG-format.",
		"hello.error.upload_damaged":   "Fotot är skadat eller ofullständigt. Välj det igen.",
		"hello.error.upload_pixels":    "Fotot är för stort. Välj ett mindre foto.",
		"hello.error.upload_empty":     "Fotot du valde är tomt.",
		"hello.error.upload_too_large": "Fotot är för stort. Välj ett mindre foto.",
	},
	"da": {
		"hello.nav":                "Hilsner",
		"hello.greet.title":        "Send en hilsen",
		"hello.greet.intro":        "Send en kort hilsen til dine naboer. Den gemmes sammen med dine andre hilsner.",
		"hello.greet.message":      "Din besked",
		"hello.greet.message.hint": "Højst %d tegn.",
		"hello.greet.send":         "Send",
		"hello.greet.sent":         "Din hilsen er sendt.",
		"hello.error.summary":      "Der er en fejl i formularen",
		"hello.error.prefix":       "Fejl:",
		"hello.error.required":     "Skriv en besked.",
		"hello.error.max_length":   "Beskeden må højst være på %d tegn.",
		"hello.error.format":       "Beskeden indeholder tegn, der ikke kan gemmes.",
		"hello.card.title":         "Dine hilsner",
		"hello.card.none":          "Du har ikke sendt nogen hilsner endnu.",
		"hello.card.count.one":     "Du har sendt %d hilsen.",
		"hello.card.count.other":   "Du har sendt %d hilsner.",
		"hello.card.link":          "Send en hilsen",

		// The greeting's photo, which the host receives (uploads).
		"hello.greet.photo":            "Foto (valgfrit)",
		"hello.greet.photo.hint":       "Et JPEG- eller PNG-billede på højst %d MB. Billedets placeringsdata fjernes.",
		"hello.greet.photo.alt":        "Det foto, du sendte",
		"hello.error.upload_kind":      "Vælg et JPEG- eller PNG-billede.",
		"hello.error.upload_damaged":   "Billedet er beskadiget eller ufuldstændigt. Vælg det igen.",
		"hello.error.upload_pixels":    "Billedet er for stort. Vælg et mindre billede.",
		"hello.error.upload_empty":     "Det valgte billede er tomt.",
		"hello.error.upload_too_large": "Billedet er for stort. Vælg et mindre billede.",
	},
	"tr": {
		"hello.nav":                "Selamlar",
		"hello.greet.title":        "Selam gönder",
		"hello.greet.intro":        "Komşularınıza kısa bir selam gönderin. Selamınız diğer selamlarınızla birlikte saklanır.",
		"hello.greet.message":      "Mesajınız",
		"hello.greet.message.hint": "En fazla %d karakter.",
		"hello.greet.send":         "Gönder",
		"hello.greet.sent":         "Selamınız gönderildi.",
		"hello.error.summary":      "Formda bir hata var",
		"hello.error.prefix":       "Hata:",
		"hello.error.required":     "Bir mesaj yazın.",
		"hello.error.max_length":   "Mesaj en fazla %d karakter olabilir.",
		"hello.error.format":       "Mesajda kaydedilemeyen karakterler var.",
		"hello.card.title":         "Selamlarınız",
		"hello.card.none":          "Henüz selam göndermediniz.",
		"hello.card.count.one":     "%d selam gönderdiniz.",
		"hello.card.count.other":   "%d selam gönderdiniz.",
		"hello.card.link":          "Selam gönder",

		// The greeting's photo, which the host receives (uploads).
		"hello.greet.photo":            "Fotoğraf (isteğe bağlı)",
		"hello.greet.photo.hint":       "En fazla %d MB boyutunda JPEG veya PNG fotoğraf. Konum bilgileri silinir.",
		"hello.greet.photo.alt":        "Gönderdiğiniz fotoğraf",
		"hello.error.upload_kind":      "JPEG veya PNG biçiminde bir fotoğraf seçin.",
		"hello.error.upload_damaged":   "Fotoğraf bozuk veya eksik. Yeniden seçin.",
		"hello.error.upload_pixels":    "Fotoğraf çok büyük. Daha küçük bir fotoğraf seçin.",
		"hello.error.upload_empty":     "Seçtiğiniz fotoğraf boş.",
		"hello.error.upload_too_large": "Fotoğraf çok büyük. Daha küçük bir fotoğraf seçin.",
	},
}

// Languages are the languages hello speaks.
var Languages = []string{"en", "fi", "sv", "da", "tr"}

// catalog is hello's text in one language. It holds only the language's tag, so that
// page data carrying it is a value the page memo can key on (web.Memo).
type catalog struct {
	lang string
}

// catalogFor picks the viewer's language (exactly, then its base language) or English.
func catalogFor(lang string) catalog {
	lang = strings.ToLower(lang)
	if _, ok := messages[lang]; ok {
		return catalog{lang}
	}
	base, _, _ := strings.Cut(lang, "-")
	if _, ok := messages[base]; ok {
		return catalog{base}
	}
	return catalog{"en"}
}

// T is the text of id, formatted with args when it takes any.
func (c catalog) T(id string, args ...any) string {
	s, ok := messages[c.lang][id]
	if !ok {
		s = messages["en"][id]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Count says how many greetings, in the language's plural form. In all five
// languages a whole number takes the "one" form for 1 only (CLDR).
func (c catalog) Count(n int) string {
	switch n {
	case 0:
		return c.T("hello.card.none")
	case 1:
		return c.T("hello.card.count.one", n)
	}
	return c.T("hello.card.count.other", n)
}

// labels is one message in every language, for the manifest's nav and cards.
func labels(id string) map[string]string {
	out := make(map[string]string, len(messages))
	for lang, m := range messages {
		out[lang] = m[id]
	}
	return out
}
