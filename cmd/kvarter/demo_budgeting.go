package main

// The budgeting plugin's part of `kvarter demo`: two participatory budgets in the demo
// city, filled through the plugin's own API routes as the people who would do it. In
// Bornova a finished one: residents proposed, the city reviewed (one idea refused with
// its reason), residents voted with knapsack ballots, the city previewed greedy and the
// Method of Equal Shares side by side and published the MES result, and the funded
// projects have progress updates; the city added a sketch to one of them. In Karşıyaka one in its voting phase, where some
// residents have voted and the others still can.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
)

func init() {
	demoSteps = append(demoSteps, demoStep{Name: "budgeting", Plugin: "budgeting", Fill: demoBudgeting})
}

// demoBudgetPlace and demoVotingPlace are the neighbourhoods (indexes in demoPlaces)
// of the finished and the open budget.
const (
	demoBudgetPlace = 3 // Bornova
	demoVotingPlace = 2 // Karşıyaka
)

// demoIdea is a resident's proposal. Author and Voters are indexes among the
// neighbourhood's verified residents; Refused, when set, is the city's public reason.
type demoIdea struct {
	Title, Description, Category string
	Cost                         int64 // Turkish lira
	Author                       int
	Voters                       []int
	Refused                      string
}

var demoFinishedIdeas = []demoIdea{
	{Title: "Okul yoluna yaya geçidi ve hız kesici", Category: "ulaşım", Cost: 300_000, Author: 0, Voters: []int{0, 1, 2},
		Description: "Kazımdirik İlkokulu'nun önündeki caddede sabahları araçlar çok hızlı geçiyor. Işıklı bir yaya geçidi ve iki hız kesici istiyoruz."},
	{Title: "Çamlık Parkı'na gölgelik ve su sebili", Category: "park", Cost: 450_000, Author: 1, Voters: []int{0, 1},
		Description: "Yazın parkta oturacak gölge yok. Oyun alanının yanına gölgelik, girişe de içme suyu sebili konsun."},
	{Title: "Semt kütüphanesine çocuk okuma köşesi", Category: "kültür", Cost: 250_000, Author: 2, Voters: []int{2},
		Description: "Minderler, alçak raflar ve resimli kitaplarla okul öncesi çocuklar için bir köşe; hafta sonları masal saati."},
	{Title: "Pazar yerine bisiklet park yeri", Category: "ulaşım", Cost: 200_000, Author: 2, Voters: []int{2},
		Description: "Salı pazarına bisikletle gelenler bisikletini ağaçlara bağlıyor. Otuz bisikletlik kapalı bir park yeri yeterli olur."},
	{Title: "Sokak hayvanları için mama ve su istasyonları", Category: "çevre", Cost: 150_000, Author: 1, Voters: []int{1},
		Description: "Mahalleye on mama ve su istasyonu; doldurmayı gönüllüler üstlenir."},
	{Title: "Metro hattının Bornova'nın içine uzatılması", Category: "ulaşım", Cost: 900_000, Author: 0,
		Refused: "Bir metro uzatması mahalle bütçesinin çok üstünde; ulaşım ana planında ayrıca değerlendiriliyor."},
}

var demoVotingIdeas = []demoIdea{
	{Title: "Sahil yürüyüş yoluna bank ve aydınlatma", Category: "park", Cost: 350_000, Author: 0, Voters: []int{0},
		Description: "Bostanlı'ya kadar uzanan yürüyüş yolunda akşamları karanlık kalan kısma lamba, her iki yüz metreye bir bank."},
	{Title: "Bisiklet yolunun Mavişehir'e bağlanması", Category: "ulaşım", Cost: 500_000, Author: 1, Voters: []int{0, 1},
		Description: "Bisiklet yolu Karşıyaka İskelesi'nde bitiyor. Eksik kalan bir buçuk kilometre tamamlansın."},
	{Title: "Mahalle bostanı", Category: "çevre", Cost: 180_000, Author: 1,
		Description: "Boş belediye arsasında komşuların birlikte ektiği, sulama sistemi olan bir bostan."},
	{Title: "Çocuk parkına engelsiz salıncak", Category: "park", Cost: 120_000, Author: 0,
		Description: "Tekerlekli sandalye kullanan çocukların da binebileceği bir salıncak ve yumuşak zemin."},
}

// demoBudgetCycle is a budgeting cycle as the API answers it, the fields the demo uses.
type demoBudgetCycle struct {
	ID string `json:"id"`
}

func demoBudgeting(ctx context.Context, c *demoCity) error {
	if err := demoFinishedBudget(ctx, c); err != nil {
		return err
	}
	return demoOpenBudget(ctx, c)
}

// demoNeighbours returns the verified residents of the place, in order.
func demoNeighbours(c *demoCity, place int) []*demoPerson {
	var out []*demoPerson
	for _, p := range c.Residents {
		if p.Neighbourhood == place && !p.Pending {
			out = append(out, p)
		}
	}
	return out
}

// demoBallotCycle opens a knapsack cycle in place, has its residents propose the
// ideas, the city review them and open voting, and the residents vote as the ideas
// say, but only those of the first `voting` residents. It returns the cycle and the
// proposals' IDs in the ideas' order.
func demoBallotCycle(ctx context.Context, c *demoCity, place int, name string, budget int64, ideas []demoIdea, voting int) (string, []string, error) {
	const api = "/api/v1/budgeting/cycles"
	people := demoNeighbours(c, place)
	if len(people) == 0 {
		return "", nil, fmt.Errorf("%s has no verified residents", demoPlaces[place].Name)
	}
	var cy demoBudgetCycle
	if err := c.API(ctx, c.Admin, "POST", api, map[string]any{
		"neighbourhood_id": c.Neighbourhoods[place].ID, "name": name, "budget": budget * 100, "currency": "TRY", "country": "Turkey",
		"ballot": map[string]any{"type": "approval", "max_cost": budget * 100},
	}, &cy); err != nil {
		return "", nil, err
	}
	u := api + "/" + cy.ID
	ids := make([]string, len(ideas))
	for i, idea := range ideas {
		var p demoBudgetCycle
		if err := c.API(ctx, people[idea.Author%len(people)], "POST", u+"/proposals", map[string]any{
			"title": idea.Title, "description": idea.Description, "category": idea.Category, "location": demoPlaces[place].Name, "cost": idea.Cost * 100,
		}, &p); err != nil {
			return "", nil, err
		}
		ids[i] = p.ID
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/phase", map[string]any{"phase": "review"}, nil); err != nil {
		return "", nil, err
	}
	for i, idea := range ideas {
		review := map[string]any{"feasible": true, "cost": idea.Cost * 100}
		if idea.Refused != "" {
			review = map[string]any{"feasible": false, "reason": idea.Refused}
		}
		if err := c.API(ctx, c.Admin, "POST", u+"/proposals/"+ids[i]+"/review", review, nil); err != nil {
			return "", nil, err
		}
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/phase", map[string]any{"phase": "voting"}, nil); err != nil {
		return "", nil, err
	}
	for v, p := range people[:min(voting, len(people))] {
		var chosen []string
		for i, idea := range ideas {
			for _, w := range idea.Voters {
				if w == v {
					chosen = append(chosen, ids[i])
				}
			}
		}
		if len(chosen) == 0 {
			continue
		}
		if err := c.API(ctx, p, "POST", u+"/ballots", map[string]any{"projects": chosen}, nil); err != nil {
			return "", nil, err
		}
	}
	return cy.ID, ids, nil
}

// demoFinishedBudget runs Bornova's budget to the end: results previewed and the
// Method of Equal Shares published, and the funded projects under way.
func demoFinishedBudget(ctx context.Context, c *demoCity) error {
	id, ids, err := demoBallotCycle(ctx, c, demoBudgetPlace, "Bornova Katılımcı Bütçe 2025", 1_000_000, demoFinishedIdeas, 3)
	if err != nil {
		return err
	}
	u := "/api/v1/budgeting/cycles/" + id
	// The city's sketch of the shade and the fountain, on the proposal's page.
	if err := demoAttachSketch(ctx, c, u+"/proposals/"+ids[1]+"/attachments"); err != nil {
		return err
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/phase", map[string]any{"phase": "results"}, nil); err != nil {
		return err
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/preview", map[string]any{}, nil); err != nil {
		return err
	}
	var res struct {
		Winners []string `json:"winners"`
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/publish", map[string]any{"rule": "mes"}, &res); err != nil {
		return err
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/phase", map[string]any{"phase": "implementation"}, nil); err != nil {
		return err
	}
	notes := []string{
		"İhale tamamlandı; yapım işi Mart ayında başlıyor.",
		"Malzemeler geldi, ekipler sahada.",
		"İş bitti ve mahallenin kullanımına açıldı. Katılan herkese teşekkürler!",
	}
	for i, w := range res.Winners {
		steps := []string{"in_progress"}
		if i == 0 {
			steps = append(steps, "done")
		}
		for j, status := range steps {
			note := notes[min(i, 1)]
			if j == 1 {
				note = notes[2]
			}
			if err := c.API(ctx, c.Admin, "POST", u+"/proposals/"+w+"/updates", map[string]any{"status": status, "note": note}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoSketch is a plan as a city drafter might sketch it: a green park, a brown
// shade in its middle, a grey path from the entrance and a blue fountain beside it.
// demoSketchAlt says so, for those who cannot see it.
func demoSketch() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	fill := func(r image.Rectangle, c color.RGBA) {
		draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
	}
	fill(img.Bounds(), color.RGBA{R: 106, G: 168, B: 79, A: 255})                  // the park
	fill(image.Rect(0, 170, 320, 200), color.RGBA{R: 160, G: 160, B: 160, A: 255}) // the path at the entrance
	fill(image.Rect(110, 60, 210, 130), color.RGBA{R: 120, G: 80, B: 40, A: 255})  // the shade
	for y := 140; y < 170; y++ {                                                   // the fountain, a disc
		for x := 30; x < 60; x++ {
			if (x-45)*(x-45)+(y-155)*(y-155) <= 15*15 {
				img.Set(x, y, color.RGBA{R: 60, G: 120, B: 220, A: 255})
			}
		}
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

const demoSketchAlt = "Taslak çizim: yeşil park alanının ortasında kahverengi bir gölgelik, girişteki gri yolun yanında mavi bir su sebili."

// demoAttachSketch adds demoSketch to a proposal as the city, through the plugin's
// attachments route: a multipart form the host receives, as a browser would send it.
func demoAttachSketch(ctx context.Context, c *demoCity, path string) error {
	sketch, err := demoSketch()
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("alt", demoSketchAlt); err != nil {
		return err
	}
	fw, err := mw.CreateFormFile("photo", "taslak.png")
	if err != nil {
		return err
	}
	if _, err := fw.Write(sketch); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Admin.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// demoOpenBudget leaves Karşıyaka's budget in its voting phase with two ballots cast.
func demoOpenBudget(ctx context.Context, c *demoCity) error {
	_, _, err := demoBallotCycle(ctx, c, demoVotingPlace, "Karşıyaka Katılımcı Bütçe 2026", 900_000, demoVotingIdeas, 2)
	return err
}
