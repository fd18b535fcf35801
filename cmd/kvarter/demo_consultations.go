package main

// The consultations plugin's part of `kvarter demo`, filled through the plugin's own
// API routes as the people who would do it: an open survey of the whole city about
// the seafront cycle path (its second question asked only of those who cycle), which
// some residents have answered; a poll on the name of a new square, closed, with its
// results published and the city's response (so every voter has a notification);
// and an open idea board for Karşıyaka's shore with ideas, comments and supports.

import (
	"context"
	"fmt"
	"time"
)

func init() {
	demoSteps = append(demoSteps, demoStep{Name: "consultations", Plugin: "consultations", Fill: demoConsultations})
}

const demoConsAPI = "/api/v1/consultations"

// demoConsultation is a consultation as the API answers it, the fields the demo uses.
type demoConsultation struct {
	ID        string `json:"id"`
	Questions []struct {
		ID      string `json:"id"`
		Options []struct {
			ID string `json:"id"`
		} `json:"options"`
	} `json:"questions"`
}

// option is the ID of option o of question q.
func (d demoConsultation) option(q, o int) string { return d.Questions[q].Options[o].ID }

func demoConsultations(ctx context.Context, c *demoCity) error {
	if err := demoSurvey(ctx, c); err != nil {
		return fmt.Errorf("survey: %w", err)
	}
	if err := demoPoll(ctx, c); err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	if err := demoIdeaBoard(ctx, c); err != nil {
		return fmt.Errorf("idea board: %w", err)
	}
	return nil
}

// demoCreate prepares a consultation as the city admin and publishes it.
func demoCreate(ctx context.Context, c *demoCity, in map[string]any) (demoConsultation, error) {
	var d demoConsultation
	if err := c.API(ctx, c.Admin, "POST", demoConsAPI, in, &d); err != nil {
		return d, err
	}
	return d, c.API(ctx, c.Admin, "POST", demoConsAPI+"/"+d.ID+"/publish", nil, nil)
}

// demoVerified are the verified residents of the demo city, in order.
func demoVerified(c *demoCity) []*demoPerson {
	var out []*demoPerson
	for _, p := range c.Residents {
		if !p.Pending {
			out = append(out, p)
		}
	}
	return out
}

// demoSurvey opens a city-wide survey for verified residents and has some answer it.
func demoSurvey(ctx context.Context, c *demoCity) error {
	now := time.Now().UTC()
	d, err := demoCreate(ctx, c, map[string]any{
		"kind": "survey", "title": "Kordon bisiklet yolu anketi",
		"background": "Belediye, Konak'tan Karşıyaka'ya uzanan sahil boyunca kesintisiz bir bisiklet yolu planlıyor.\n\n" +
			"Güzergâh, kavşaklardaki geçişler ve park yerleri için görüşlerinizi almak istiyoruz. Proje dosyası aşağıda.",
		"what_next":     "Ulaşım Daire Başkanlığı yanıtları nisan ayında değerlendirecek; sonuçları ve kararı bu sayfada yayımlayacağız.",
		"participation": "residents", "anonymous_allowed": true,
		"opens_at": now.Add(-48 * time.Hour), "closes_at": now.Add(14 * 24 * time.Hour),
		"questions": []map[string]any{
			{"kind": "single", "prompt": "Şehir içinde bisiklete biniyor musunuz?", "required": true, "options": []string{"Evet", "Hayır"}},
			{"kind": "scale", "prompt": "Ne sıklıkla?", "required": true, "scale_min": 1, "scale_max": 5,
				"scale_min_label": "Ayda birkaç kez", "scale_max_label": "Her gün", "show_if": map[string]int{"question": 0, "option": 0}},
			{"kind": "multiple", "prompt": "Hangi kesimleri kullanırdınız?", "options": []string{"Konak – Alsancak", "Alsancak – Bayraklı", "Bayraklı – Karşıyaka"},
				"min_choices": 1},
			{"kind": "ranking", "prompt": "Önceliklerinizi sıralayın", "options": []string{"Kavşaklarda güvenli geçiş", "Kapalı bisiklet park yeri", "Gece aydınlatması"}},
			{"kind": "text", "prompt": "Eklemek istedikleriniz", "max_length": 1000},
		},
	})
	if err != nil {
		return err
	}
	texts := []string{"Alsancak Limanı önündeki kavşak çok tehlikeli, orada ayrı bir ışık olmalı.", "", "Yolun yaya yolundan ayrı olması çok önemli."}
	for i, p := range demoVerified(c)[:6] {
		answers := map[string]any{}
		if i%3 == 2 {
			answers[d.Questions[0].ID] = map[string]any{"options": []string{d.option(0, 1)}}
		} else {
			answers[d.Questions[0].ID] = map[string]any{"options": []string{d.option(0, 0)}}
			answers[d.Questions[1].ID] = map[string]any{"value": 1 + (i*2)%5}
			answers[d.Questions[2].ID] = map[string]any{"options": []string{d.option(2, i%3)}}
		}
		answers[d.Questions[3].ID] = map[string]any{"options": []string{d.option(3, i%3), d.option(3, (i+1)%3), d.option(3, (i+2)%3)}}
		if t := texts[i%len(texts)]; t != "" {
			answers[d.Questions[4].ID] = map[string]any{"text": t}
		}
		if err := c.API(ctx, p, "POST", demoConsAPI+"/"+d.ID+"/answer", map[string]any{"answers": answers, "anonymous": i == 4}, nil); err != nil {
			return err
		}
	}
	return nil
}

// demoPoll runs a poll to its end: residents vote, the city closes it, publishes the
// results and its response.
func demoPoll(ctx context.Context, c *demoCity) error {
	now := time.Now().UTC()
	d, err := demoCreate(ctx, c, map[string]any{
		"kind": "poll", "title": "Bayraklı'daki yeni meydanın adı",
		"background":    "Bayraklı sahilinde açılan yeni meydana bir ad arıyoruz. Öneriler mahalle meclisinden geldi.",
		"what_next":     "En çok oy alan ad belediye meclisine sunulacak.",
		"participation": "signed_in", "poll_results": "after_close",
		"opens_at": now.Add(-10 * 24 * time.Hour), "closes_at": now.Add(24 * time.Hour),
		"questions": []map[string]any{{"kind": "single", "prompt": "Meydanın adı ne olsun?", "required": true,
			"options": []string{"Deniz Feneri Meydanı", "Körfez Meydanı", "Smyrna Meydanı"}}},
	})
	if err != nil {
		return err
	}
	for i, p := range demoVerified(c) {
		choice := []int{0, 1, 0, 2, 0, 1, 0}[i%7]
		if err := c.API(ctx, p, "POST", demoConsAPI+"/"+d.ID+"/answer",
			map[string]any{"answers": map[string]any{d.Questions[0].ID: map[string]any{"options": []string{d.option(0, choice)}}}}, nil); err != nil {
			return err
		}
	}
	u := demoConsAPI + "/" + d.ID
	if err := c.API(ctx, c.Admin, "POST", u+"/close", nil, nil); err != nil {
		return err
	}
	if err := c.API(ctx, c.Admin, "POST", u+"/results", nil, nil); err != nil {
		return err
	}
	return c.API(ctx, c.Admin, "POST", u+"/response", map[string]any{"response": "Oylamaya katılan herkese teşekkürler. " +
		"Belediye meclisi, en çok oyu alan “Deniz Feneri Meydanı” adını mart oturumunda kabul etti; tabelalar mayıs ayında asılacak."}, nil)
}

// demoIdeaBoard opens an idea board for Karşıyaka's shore, with ideas, comments and
// supports from residents.
func demoIdeaBoard(ctx context.Context, c *demoCity) error {
	now := time.Now().UTC()
	d, err := demoCreate(ctx, c, map[string]any{
		"kind": "ideas", "title": "Karşıyaka sahili için fikirler",
		"background":    "Sahil düzenlemesi yeniden ele alınıyor. Sahilde neler olsun, neler değişsin? Fikrinizi yazın, başkalarınınkini destekleyin.",
		"what_next":     "En çok desteklenen fikirler proje ekibince incelenecek ve her birinin ne olduğunu burada yazacağız.",
		"participation": "signed_in",
		"opens_at":      now.Add(-3 * 24 * time.Hour), "closes_at": now.Add(30 * 24 * time.Hour),
	})
	if err != nil {
		return err
	}
	people := demoVerified(c)
	ideas := []struct{ Title, Body string }{
		{"Sahile içme suyu çeşmeleri", "Yürüyüş yolunda her kilometreye bir içme suyu çeşmesi konsun; yazın çok ihtiyaç oluyor."},
		{"Köpekler için çitli alan", "Köpek sahipleri ve çocuklu aileler için sahilin bir köşesinde çitle ayrılmış bir alan."},
		{"Akşam konserleri için küçük sahne", "Yaz akşamları mahalle müzisyenlerinin çalabileceği küçük, açık bir sahne."},
	}
	ids := make([]string, len(ideas))
	for i, idea := range ideas {
		var out struct {
			ID string `json:"id"`
		}
		if err := c.API(ctx, people[i], "POST", demoConsAPI+"/"+d.ID+"/ideas",
			map[string]any{"title": idea.Title, "body": idea.Body, "show_name": true}, &out); err != nil {
			return err
		}
		ids[i] = out.ID
	}
	comments := []struct {
		Idea, Author int
		Body         string
	}{
		{0, 3, "Çok iyi olur, özellikle koşanlar için."},
		{0, 4, "Şişe doldurulabilen musluklar da olsun."},
		{1, 5, "Alan gölgelik olursa yazın da kullanılabilir."},
		{2, 0, "Sahne tekerlekli sandalyeyle erişilebilir olmalı."},
	}
	for _, cm := range comments {
		if err := c.API(ctx, people[cm.Author%len(people)], "POST", demoConsAPI+"/"+d.ID+"/ideas/"+ids[cm.Idea]+"/comments",
			map[string]any{"body": cm.Body, "show_name": true}, nil); err != nil {
			return err
		}
	}
	for i, p := range people {
		for j := range ids {
			if (i+j)%2 == 0 && i != j {
				if err := c.API(ctx, p, "PUT", demoConsAPI+"/"+d.ID+"/ideas/"+ids[j]+"/support", nil, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
