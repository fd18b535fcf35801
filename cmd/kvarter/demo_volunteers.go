package main

// The volunteers plugin's part of `kvarter demo`: residents with volunteer profiles,
// opportunities of the demo's organisations and of the city with shifts in the coming
// days, and sign-ups in every state a page shows — applied, invited, accepted and
// confirmed, and a full shift with a wait list. Everything goes through the plugin's
// API as the person who would do it.

import (
	"context"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers"
)

func init() {
	demoSteps = append(demoSteps, demoStep{Name: "volunteers", Plugin: "volunteers", Fill: demoVolunteers})
}

const demoVolAPI = "/api/v1/volunteers"

// demoVolunteer is a resident's volunteer profile (index in the residents).
type demoVolunteer struct {
	Resident  int
	Skills    []string
	Languages []string
	Birth     string
	Places    []int // indexes in demoPlaces
	MaxHours  int
}

var demoVolunteerProfiles = []demoVolunteer{
	{Resident: 0, Skills: []string{"first_aid", "event_setup"}, Languages: []string{"tr", "en"}, Birth: "1988-04-12", Places: []int{0, 1}},
	{Resident: 5, Skills: []string{"cooking", "working_with_older_people"}, Languages: []string{"tr"}, Birth: "1961-09-30", Places: []int{4}, MaxHours: 6},
	{Resident: 6, Skills: []string{"event_setup", "gardening"}, Languages: []string{"tr", "de"}, Birth: "2001-01-20", Places: []int{2, 10}},
	{Resident: 7, Skills: []string{"driving_licence", "first_aid"}, Languages: []string{"tr", "en"}, Birth: "1979-06-02", Places: []int{2, 3}},
	{Resident: 8, Skills: []string{"it_help", "communications"}, Languages: []string{"tr", "en"}, Birth: "1995-11-11", Places: []int{3}},
	{Resident: 9, Skills: []string{"sports_coaching", "working_with_children"}, Languages: []string{"tr"}, Birth: "1990-03-08", Places: []int{3, 4}},
	{Resident: 11, Skills: []string{"interpreting", "accessibility_assistance"}, Languages: []string{"tr", "ar", "en"}, Birth: "1984-07-25", Places: []int{1, 4}},
	{Resident: 12, Skills: []string{"gardening"}, Languages: []string{"tr"}, Birth: "2008-02-14", Places: []int{2, 11}},
}

// demoOpportunity is one opportunity: posted by an organisation's founder (index in
// demoOrgs) or, with Org -1, by the city admin. Shifts start Days from today at Hour
// (UTC: daytime in the demo city) and last Hours.
type demoOpportunity struct {
	Org                  int
	Place                int
	Title, Description   string
	Where                string
	Required, Preferred  []string
	MinAge               int
	AutoAccept, Newcomer bool
	Draft                bool
	Shifts               []demoShift
	id                   string
	shifts               []string
}

type demoShift struct{ Days, Hour, Hours, Capacity int }

func demoOpportunities() []*demoOpportunity {
	return []*demoOpportunity{
		{Org: 0, Place: 3, Title: "Okul bahçesi boyama günü", Where: "Bornova Atatürk İlkokulu bahçesi",
			Description: "Okul bahçesinin duvarlarını çocuklarla birlikte boyuyoruz. Fırça, boya ve öğle yemeği bizden; deneyim gerekmez.",
			Preferred:   []string{"event_setup"}, Newcomer: true,
			Shifts: []demoShift{{Days: 5, Hour: 7, Hours: 3, Capacity: 4}, {Days: 5, Hour: 11, Hours: 3, Capacity: 4}}},
		{Org: 1, Place: 10, Title: "Bostanlı kıyı temizliği", Where: "Bostanlı İskelesi önü",
			Description: "Pazar sabahı kıyıyı birlikte temizliyoruz; eldiven ve çöp torbası kulüpten.",
			Preferred:   []string{"gardening"}, AutoAccept: true, Newcomer: true,
			Shifts: []demoShift{{Days: 6, Hour: 6, Hours: 3, Capacity: 2}}},
		{Org: 2, Place: 4, Title: "Yaşlı komşulara alışveriş ve sohbet", Where: "Buca, Dayanışma Ağı buluşma noktası",
			Description: "Yalnız yaşayan yaşlı komşularımızın alışverişini yapıp bir çay içimi sohbet ediyoruz.",
			Preferred:   []string{"working_with_older_people", "cooking"}, MinAge: 18,
			Shifts: []demoShift{{Days: 2, Hour: 14, Hours: 2, Capacity: 3}, {Days: 9, Hour: 14, Hours: 2, Capacity: 3}}},
		{Org: -1, Place: 1, Title: "Kent festivali ilk yardım noktası", Where: "Konak Meydanı, festival alanı",
			Description: "Belediyenin kent festivalinde ilk yardım noktasında nöbet; sertifikalı ilk yardım bilgisi gerekir.",
			Required:    []string{"first_aid"}, MinAge: 18,
			Shifts: []demoShift{{Days: 12, Hour: 8, Hours: 4, Capacity: 2}}},
		{Org: 1, Place: 2, Title: "Bisiklet tamir atölyesi", Where: "Karşıyaka Çarşı",
			Description: "Mahallelinin bisikletlerini birlikte onarıyoruz (taslak: tarih kesinleşince yayımlanacak).",
			Draft:       true, Shifts: []demoShift{{Days: 20, Hour: 9, Hours: 3, Capacity: 3}}},
	}
}

// demoVolunteers makes the profiles, the opportunities and the sign-ups.
func demoVolunteers(ctx context.Context, c *demoCity) error {
	vols := make([]*demoPerson, len(demoVolunteerProfiles))
	for i, v := range demoVolunteerProfiles {
		p := c.Residents[v.Resident]
		vols[i] = p
		var places []string
		for _, pl := range v.Places {
			places = append(places, c.Neighbourhoods[pl].ID)
		}
		var avail []map[string]string
		for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
			avail = append(avail, map[string]string{"day": d, "start": "08:00", "end": "21:00"})
		}
		body := map[string]any{"skills": v.Skills, "languages": v.Languages, "birth_date": v.Birth,
			"neighbourhoods": places, "availability": avail, "max_hours_per_week": v.MaxHours}
		if err := c.API(ctx, p, "PUT", demoVolAPI+"/profile", body, nil); err != nil {
			return err
		}
		p.Role += "; volunteer"
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	opps := demoOpportunities()
	for _, o := range opps {
		poster, orgID := c.Admin, ""
		if o.Org >= 0 {
			poster, orgID = c.Residents[demoOrgs[o.Org].Founder], c.Organisations[o.Org].ID
		}
		var shifts []map[string]any
		for _, s := range o.Shifts {
			start := today.AddDate(0, 0, s.Days).Add(time.Duration(s.Hour) * time.Hour)
			shifts = append(shifts, map[string]any{"start": start.Format(time.RFC3339),
				"end": start.Add(time.Duration(s.Hours) * time.Hour).Format(time.RFC3339), "capacity": s.Capacity})
		}
		body := map[string]any{"organisation_id": orgID, "title": o.Title, "description": o.Description,
			"neighbourhood_id": c.Neighbourhoods[o.Place].ID, "place": o.Where, "required_skills": o.Required,
			"preferred_skills": o.Preferred, "languages": []string{c.Language}, "min_age": o.MinAge,
			"auto_accept": o.AutoAccept, "newcomers": o.Newcomer, "shifts": shifts}
		var made volunteers.Opportunity
		if err := c.API(ctx, poster, "POST", demoVolAPI+"/opportunities", body, &made); err != nil {
			return fmt.Errorf("%s: %w", o.Title, err)
		}
		o.id = made.ID
		for _, s := range made.Shifts {
			o.shifts = append(o.shifts, s.ID)
		}
		if !o.Draft {
			if err := c.API(ctx, poster, "POST", demoVolAPI+"/opportunities/"+o.id+"/publish", nil, nil); err != nil {
				return err
			}
		}
	}
	return c.demoSignUps(ctx, opps, vols)
}

// demoSignUps leaves sign-ups in every state: the clean-up's two places taken and a
// wait list of one, applications waiting for the school's organiser and one accepted,
// a confirmed shift of the solidarity network and an invitation from the city.
func (c *demoCity) demoSignUps(ctx context.Context, opps []*demoOpportunity, vols []*demoPerson) error {
	path := func(o *demoOpportunity, shift int) string {
		return demoVolAPI + "/opportunities/" + o.id + "/shifts/" + o.shifts[shift]
	}
	apply := func(p *demoPerson, o *demoOpportunity, shift int) (volunteers.Application, error) {
		var a volunteers.Application
		err := c.API(ctx, p, "POST", path(o, shift)+"/applications", nil, &a)
		return a, err
	}
	school, cleanUp, solidarity, festival := opps[0], opps[1], opps[2], opps[3]
	for _, v := range []int{2, 7, 0} { // two confirmed at once, the third wait-listed
		if _, err := apply(vols[v], cleanUp, 0); err != nil {
			return err
		}
	}
	for _, v := range []int{4, 5} {
		if _, err := apply(vols[v], school, 0); err != nil {
			return err
		}
	}
	a, err := apply(vols[6], school, 1)
	if err != nil {
		return err
	}
	founder := func(o *demoOpportunity) *demoPerson { return c.Residents[demoOrgs[o.Org].Founder] }
	if err := c.API(ctx, founder(school), "POST", path(school, 1)+"/applications/"+a.ID+"/accept", nil, nil); err != nil {
		return err
	}
	if a, err = apply(vols[1], solidarity, 0); err != nil {
		return err
	}
	if err := c.API(ctx, founder(solidarity), "POST", path(solidarity, 0)+"/applications/"+a.ID+"/accept", nil, nil); err != nil {
		return err
	}
	if err := c.API(ctx, vols[1], "POST", path(solidarity, 0)+"/applications/"+a.ID+"/confirm", nil, nil); err != nil {
		return err
	}
	return c.API(ctx, c.Admin, "POST", path(festival, 0)+"/invitations",
		map[string]string{"volunteer_id": vols[3].User.ID}, nil)
}
