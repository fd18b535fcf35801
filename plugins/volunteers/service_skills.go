package volunteers

import (
	"context"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
)

// Skills lists the catalogue by ID.
func (s *Service) Skills(ctx context.Context, q sdk.ListQuery) (sdk.Page[Skill], error) {
	items, err := s.st.skillsPage(ctx, q)
	if err != nil {
		return sdk.Page[Skill]{}, err
	}
	return sdk.NewPage(items, q, func(sk Skill) []any { return []any{sk.ID} }), nil
}

// PutSkill adds or renames a catalogue skill; the route is limited to staff holding
// PermSkillManage in the city.
func (s *Service) PutSkill(ctx context.Context, p sdk.Principal, sk Skill) (Skill, error) {
	var f fields
	if !validSlug(sk.ID) {
		f.add("id", "must be 1-64 characters of a-z, 0-9, _ and -", RuleFormat)
	}
	if len(sk.Names) == 0 {
		f.add("names", "give the skill's name in at least one language", RuleRequired)
	}
	for lang, name := range sk.Names {
		if strings.TrimSpace(name) == "" {
			f.add("names."+lang, "must not be empty", RuleRequired)
		}
	}
	if err := f.err("invalid skill"); err != nil {
		return Skill{}, err
	}
	if err := s.st.putSkill(ctx, sk, s.clock()); err != nil {
		return Skill{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.skill.put", sdk.DomainCity, sk.ID, nil)
	return sk, nil
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// checkSkills reports unknown skills of an opportunity into f, and whether a required
// skill implies a background check.
func (s *Service) checkSkills(ctx context.Context, f *fields, required, preferred []string) (needsCheck bool, err error) {
	cat, err := s.st.skills(ctx)
	if err != nil {
		return false, err
	}
	byID := map[string]Skill{}
	for _, sk := range cat {
		byID[sk.ID] = sk
	}
	var bad []string
	for _, id := range append(slices.Clone(required), preferred...) {
		if _, ok := byID[id]; !ok {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		f.add("required_skills", "unknown skills: "+strings.Join(bad, ", "), RuleKnownSkill)
	}
	for _, id := range required {
		needsCheck = needsCheck || byID[id].NeedsBackgroundCheck
	}
	return needsCheck, nil
}

// unknownSkills returns the IDs not in the catalogue.
func (s *Service) unknownSkills(ctx context.Context, ids ...[]string) ([]string, error) {
	cat, err := s.st.skills(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, sk := range cat {
		known[sk.ID] = true
	}
	var bad []string
	for _, l := range ids {
		for _, id := range l {
			if !known[id] {
				bad = append(bad, id)
			}
		}
	}
	return bad, nil
}

// englishLabels names skills and languages in English (the catalogue's English name,
// else as labels falls back), so the API's reason phrases are in one language; pages
// word the reason codes in their reader's language instead.
func (s *Service) englishLabels(ctx context.Context) (match.Labels, error) {
	lb, err := s.labels(ctx, "en")
	lb.Languages = englishLanguages
	return lb, err
}

// englishLanguages names the languages most often spoken in the cities; another code
// is shown as it is.
var englishLanguages = map[string]string{
	"fi": "Finnish", "sv": "Swedish", "da": "Danish", "tr": "Turkish", "en": "English", "de": "German",
	"ru": "Russian", "uk": "Ukrainian", "et": "Estonian", "ar": "Arabic", "so": "Somali", "fa": "Persian",
	"ku": "Kurdish", "es": "Spanish", "fr": "French", "pl": "Polish", "se": "Northern Sami",
}

// labels returns skill names in the reader's language, then the city's, then any.
func (s *Service) labels(ctx context.Context, locale string) (match.Labels, error) {
	cat, err := s.st.skills(ctx)
	if err != nil {
		return match.Labels{}, err
	}
	langs := append([]string{locale}, s.cfg.Languages...)
	lb := match.Labels{Skills: map[string]string{}}
	for _, sk := range cat {
		name := ""
		for _, l := range langs {
			if l == "" {
				continue
			}
			if n, ok := sk.Names[l]; ok {
				name = n
				break
			}
			if base, _, ok := strings.Cut(l, "-"); ok && sk.Names[base] != "" {
				name = sk.Names[base]
				break
			}
		}
		if name == "" {
			keys := make([]string, 0, len(sk.Names))
			for k := range sk.Names {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if len(keys) > 0 {
				name = sk.Names[keys[0]]
			}
		}
		lb.Skills[sk.ID] = name
	}
	return lb, nil
}

// Skill is one entry of the city's skill catalogue with its names per language.
type Skill struct {
	ID    string            `json:"id" doc:"1-64 characters of a-z, 0-9, _ and -" example:"first_aid"`
	Names map[string]string `json:"names" doc:"The skill's name by language code" example:"{\"en\":\"First aid\",\"fi\":\"Ensiapu\"}"`
	// NeedsBackgroundCheck: an opportunity requiring this skill (working with
	// children) needs a cleared background check, whatever its organiser ticked.
	NeedsBackgroundCheck bool `json:"needs_background_check" doc:"An opportunity requiring this skill needs a background check"`
}
