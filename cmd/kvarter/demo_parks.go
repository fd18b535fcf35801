package main

// The parks plugin's part of `kvarter demo`: two of Izmir's parks with areas, support
// items and details, approved public events over the next weeks ("Çık Dışarı
// Oynayalım" style: art, workshops, play) and one request still waiting for a manager.
// Everything goes through the plugin's API routes, as the people who would do it: the
// city admin (who holds every permission) sets the parks up and decides, the
// organisations' representatives ask.

import (
	"context"
	"fmt"
	"time"
)

func init() {
	demoSteps = append(demoSteps, demoStep{Name: "parks", Plugin: "parks", Fill: demoParks})
}

// demoPark is one park of the demo city, with its areas: the first area is the whole
// park, the others lie inside it and inherit its hours and rules.
type demoPark struct {
	Name, Description, Accessibility, Rules string
	Street, PostalCode                      string
	Lat, Lon                                float64
	Place                                   int // index in demoPlaces
	Open, Close                             string
	Areas                                   []demoArea
}

type demoArea struct {
	Name, Description string
	Capacity          int
}

var demoParksData = []demoPark{
	{Name: "Kültürpark", Place: 0, Street: "Şair Eşref Bulvarı", PostalCode: "35220", Lat: 38.4299, Lon: 27.1430,
		Open: "08:00", Close: "22:00",
		Description:   "Alsancak'ın ortasında, ağaçlı yolları, çim alanları ve açık hava sahnesiyle kentin en büyük yeşil alanı.",
		Accessibility: "Lozan ve Montrö kapılarından basamaksız giriş; engelli tuvaleti Montrö kapısının yanında; yollar düz ve asfalt.",
		Rules:         "Saat 21.00'den sonra amfi ses yok. Ateş yakılmaz. Etkinlik sonunda alan temiz bırakılır.",
		Areas: []demoArea{
			{Name: "Tüm park", Capacity: 3000},
			{Name: "Açık hava sahnesi", Capacity: 400, Description: "Gölgeli oturma basamakları, elektrik bağlantısı var."},
			{Name: "Büyük çim alan", Capacity: 250, Description: "Havuzun yanındaki düz çimenlik; atölyeler ve piknik için."},
		}},
	{Name: "Aşık Veysel Rekreasyon Alanı", Place: 3, Street: "Ankara Caddesi", PostalCode: "35050", Lat: 38.4553, Lon: 27.2005,
		Open: "07:00", Close: "23:00",
		Description:   "Bornova'da göl kenarında yürüyüş yolları, çocuk oyun alanları ve geniş çimenlikler.",
		Accessibility: "Ana kapıdan göle kadar rampalı yol; oyun alanının zemini kauçuk; otoparkta engelli yerleri.",
		Rules:         "Göle girilmez. Hayvanlar tasmalı. Oyun alanında etkinlikler en fazla üç saat sürer.",
		Areas: []demoArea{
			{Name: "Tüm alan", Capacity: 2000},
			{Name: "Göl kenarı çimenlik", Capacity: 200, Description: "Ağaç gölgesinde, göle bakan çimenlik."},
			{Name: "Çocuk oyun alanı", Capacity: 80, Description: "Salıncaklar, kum havuzu; çevresi çitle çevrili."},
		}},
}

// demoEvent is one request of the demo: Park and Area index demoParksData, Org the
// demo's organisations; Week and Day count from the coming Monday in the park's zone.
type demoEvent struct {
	Park, Area, Org int
	Week            int
	Day             time.Weekday
	From, To        int // hours
	Title, Category string
	Description     string
	Attendance      int
	Items           map[string]int
	Volunteers      bool
	Pending         bool
}

var demoEvents = []demoEvent{
	{Park: 0, Area: 1, Org: 0, Week: 1, Day: time.Saturday, From: 10, To: 13, Category: "art", Attendance: 60,
		Title:       "Çocuklar için açık hava resim atölyesi",
		Description: "Boya ve kâğıt bizden; çocuklar parkta gördüklerini resmediyor, velilere çay ikramı.",
		Items:       map[string]int{"tables": 8, "chairs": 40}, Volunteers: true},
	{Park: 1, Area: 1, Org: 2, Week: 1, Day: time.Sunday, From: 10, To: 12, Category: "culture", Attendance: 40,
		Title:       "Komşularla piknik ve masal saati",
		Description: "Yaşlı komşularımızla birlikte piknik; gönüllü anlatıcılardan çocuklara masallar."},
	{Park: 0, Area: 2, Org: 1, Week: 2, Day: time.Sunday, From: 14, To: 17, Category: "workshop", Attendance: 30,
		Title:       "Bisiklet bakım atölyesi",
		Description: "Lastik değiştirme, fren ve zincir ayarı: bisikletinizi getirin, birlikte onaralım.",
		Items:       map[string]int{"tables": 4, "power": 1}},
	{Park: 1, Area: 2, Org: 0, Week: 3, Day: time.Saturday, From: 11, To: 14, Category: "play", Attendance: 70,
		Title:       "Çık Dışarı Oynayalım: sokak oyunları",
		Description: "Seksek, yakar top, ip atlama: ekran yerine sokak oyunları, her yaştan çocuğa açık.", Volunteers: true},
	{Park: 0, Area: 1, Org: 2, Week: 4, Day: time.Saturday, From: 17, To: 19, Category: "culture", Attendance: 150,
		Title:       "Mahalle korosu konseri",
		Description: "Buca'nın mahalle korosu Ege türküleriyle Kültürpark'ta.",
		Items:       map[string]int{"chairs": 100, "sound_system": 1}},
	{Park: 0, Area: 2, Org: 1, Week: 3, Day: time.Saturday, From: 10, To: 12, Category: "workshop", Attendance: 45, Pending: true,
		Title:       "Ağaç dikimi ve tohum takası",
		Description: "Park müdürlüğüyle birlikte fidan dikimi; yerel tohumlarınızı takas için getirin.",
		Items:       map[string]int{"tables": 3}, Volunteers: true},
}

// demoParkZone is the demo parks' time zone: Izmir keeps UTC+3 all year.
const demoParkZone = "Europe/Istanbul"

// demoParks creates the parks and their areas as the city admin, then has the
// organisations' representatives ask for the events and the admin approve all but the
// pending one.
func demoParks(ctx context.Context, c *demoCity) error {
	if len(c.Organisations) < 3 || len(c.Neighbourhoods) < len(demoPlaces) {
		return fmt.Errorf("the parks demo needs the demo's organisations and neighbourhoods")
	}
	loc, err := time.LoadLocation(demoParkZone)
	if err != nil {
		return err
	}
	parkIDs := make([]string, len(demoParksData))
	areaIDs := make([][]string, len(demoParksData))
	for i, p := range demoParksData {
		var park struct{ ID string }
		in := map[string]any{
			"name": p.Name, "neighbourhood_id": c.Neighbourhoods[p.Place].ID, "time_zone": demoParkZone,
			"support_items": map[string]int{"chairs": 150, "tables": 20, "sound_system": 1, "power": 4, "waste_bins": 30},
			"description":   p.Description, "accessibility": p.Accessibility, "rules": p.Rules,
			"address": map[string]string{"street_address": p.Street, "postal_code": p.PostalCode, "locality": "İzmir"},
			"geo":     map[string]float64{"latitude": p.Lat, "longitude": p.Lon},
		}
		if err := c.API(ctx, c.Admin, "POST", "/api/v1/parks", in, &park); err != nil {
			return err
		}
		parkIDs[i] = park.ID
		for j, a := range p.Areas {
			body := map[string]any{"name": a.Name, "capacity": a.Capacity, "description": a.Description}
			if j == 0 {
				// The whole park: its hours and rules, which every area inside inherits.
				body["opening_hours"] = demoDailyHours(p.Open, p.Close)
				body["rules"] = map[string]int{"slot_granularity_minutes": 30, "min_duration_minutes": 60,
					"max_duration_minutes": 240, "min_notice_minutes": 2 * 24 * 60, "booking_horizon_days": 120,
					"buffer_after_minutes": 30}
			} else {
				body["parent_id"] = areaIDs[i][0]
			}
			var area struct{ ID string }
			if err := c.API(ctx, c.Admin, "POST", "/api/v1/parks/"+park.ID+"/areas", body, &area); err != nil {
				return err
			}
			areaIDs[i] = append(areaIDs[i], area.ID)
		}
	}
	monday := demoNextMonday(time.Now().In(loc))
	for _, e := range demoEvents {
		org := c.Organisations[e.Org]
		rep := c.Residents[demoOrgs[e.Org].Founder]
		day := monday.AddDate(0, 0, 7*(e.Week-1)+(int(e.Day)+6)%7)
		start := time.Date(day.Year(), day.Month(), day.Day(), e.From, 0, 0, 0, loc)
		end := time.Date(day.Year(), day.Month(), day.Day(), e.To, 0, 0, 0, loc)
		in := map[string]any{
			"area_id": areaIDs[e.Park][e.Area], "organisation_id": org.ID,
			"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339),
			"title": e.Title, "description": e.Description, "category": e.Category,
			"expected_attendance": e.Attendance, "public": true, "support_items": e.Items,
			"volunteers_needed": e.Volunteers,
			"contact":           map[string]string{"name": rep.Name, "email": rep.Email},
		}
		var b struct{ ID string }
		path := "/api/v1/parks/" + parkIDs[e.Park] + "/bookings"
		if err := c.API(ctx, rep, "POST", path, in, &b); err != nil {
			return err
		}
		if !e.Pending {
			if err := c.API(ctx, c.Admin, "POST", path+"/"+b.ID+"/approve", nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoNextMonday is the Monday of next week, at least a week's notice away from
// Saturday so that every demo event keeps the two days' notice.
func demoNextMonday(now time.Time) time.Time {
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	return d.AddDate(0, 0, 7-(int(d.Weekday())+6)%7)
}

func demoDailyHours(open, close string) map[string]any {
	week := map[string]any{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		week[d] = []map[string]string{{"start": open, "end": close}}
	}
	return map[string]any{"periods": []map[string]any{{"name": "tüm yıl", "from": "01-01", "to": "12-31", "week": week}}}
}
