package main

// The assemblies plugin's part of `kvarter demo`: two neighbourhood assemblies with
// members and officers, a hybrid meeting that was held and has published minutes, a
// motion adopted there that the city has answered, a city consultation, an upcoming
// meeting, and a vote that is still open. Everything goes through the plugin's API as
// the person who would do it, so the timelines, notifications and audit log are what
// real use leaves behind.

import (
	"context"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/plugins/assemblies"
)

func init() {
	demoSteps = append(demoSteps, demoStep{Name: "assemblies", Plugin: "assemblies", Fill: demoAssemblies})
}

// demoAssembly is one assembly of the demo: where, its rules, and who sits in it
// (indexes in the residents; the first is chair, the second secretary).
type demoAssembly struct {
	Place            int // index in demoPlaces
	Name, Charter    string
	Secrecy          string
	Membership       string
	Members          []int
	DelegateOrg      int // index in demoOrgs whose second representative sits as its delegate; -1 for none
	ID               string
	chair, secretary *demoPerson
}

// demoAssemblyStart is how far ahead the held meeting is scheduled: a meeting cannot
// be scheduled in the past, nor have minutes before it begins, so the demo schedules it
// just ahead and waits for it to begin.
const demoAssemblyStart = 1500 * time.Millisecond

// demoResponder is the coordinator (index) who also answers assemblies for the city.
const demoResponder = 1

func demoAssemblies(ctx context.Context, c *demoCity) error {
	asms := []*demoAssembly{
		{Place: 2, Name: "Karşıyaka Mahalle Meclisi", Secrecy: assemblies.SecrecySecret, Membership: assemblies.MembershipOpen,
			Charter:     "Karşıyaka'da oturan herkese açık meclis: kıyı, ulaşım ve parklar için belediyeye öneri getirir, belediyenin yanıtını izler.",
			Members:     []int{2, 14, 26},
			DelegateOrg: 1},
		{Place: 3, Name: "Bornova Mahalle Meclisi", Secrecy: assemblies.SecrecyNamed, Membership: assemblies.MembershipApproval,
			Charter:     "Bornova'nın okulları, sokakları ve pazar yerleri üzerine belediyeye danışmanlık yapan meclis; üyelik başvuruyla.",
			Members:     []int{3, 15, 27},
			DelegateOrg: -1},
	}
	admin := c.Admin
	responder := c.Coordinators[demoResponder]
	actx, err := c.as(ctx, admin)
	if err != nil {
		return err
	}
	if _, err := c.Node.Roles.Grant(actx, core.RoleGrant{UserID: responder.User.ID, Role: assemblies.RoleCityResponder, Domain: core.DomainCity}); err != nil {
		return fmt.Errorf("make %s a city responder: %w", responder.Email, err)
	}
	responder.Role += "; answers assemblies for the city"

	for _, a := range asms {
		if err := c.demoAssemblyMembers(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
	}
	return c.demoAssemblyLife(ctx, asms[0], asms[1], responder)
}

// demoAssemblyMembers creates the assembly (as the city admin), has its residents join
// (approved by the coordinator where membership needs approval), appoints the chair
// and the secretary and seats an organisation's delegate.
func (c *demoCity) demoAssemblyMembers(ctx context.Context, a *demoAssembly) error {
	var asm assemblies.Assembly
	if err := c.API(ctx, c.Admin, "POST", "/api/v1/assemblies", map[string]any{
		"neighbourhood_id": c.Neighbourhoods[a.Place].ID, "name": a.Name, "charter": a.Charter,
		"quorum_percent": 50, "majority": assemblies.MajoritySimple, "secrecy": a.Secrecy,
		"membership": a.Membership, "org_seats": 2,
	}, &asm); err != nil {
		return err
	}
	a.ID = asm.ID
	base := "/api/v1/assemblies/" + a.ID
	for _, i := range a.Members {
		p := c.Residents[i]
		var m assemblies.Member
		if err := c.API(ctx, p, "POST", base+"/members", nil, &m); err != nil {
			return err
		}
		if m.Status == assemblies.MemberPending {
			if err := c.API(ctx, c.Coordinators[a.Place], "POST", base+"/members/"+p.User.ID+"/approve", nil, nil); err != nil {
				return err
			}
		}
	}
	a.chair, a.secretary = c.Residents[a.Members[0]], c.Residents[a.Members[1]]
	for p, position := range map[*demoPerson]string{a.chair: assemblies.PositionChair, a.secretary: assemblies.PositionSecretary} {
		if err := c.API(ctx, c.Coordinators[a.Place], "POST", base+"/members/"+p.User.ID+"/position",
			map[string]any{"position": position}, nil); err != nil {
			return err
		}
		p.Role += "; " + position + " of " + a.Name
	}
	for _, i := range a.Members[2:] {
		c.Residents[i].Role += "; member of " + a.Name
	}
	if a.DelegateOrg >= 0 {
		o := demoOrgs[a.DelegateOrg]
		d := c.Residents[o.Second]
		if err := c.API(ctx, d, "POST", base+"/delegates", map[string]any{"organisation_id": c.Organisations[a.DelegateOrg].ID}, nil); err != nil {
			return err
		}
		d.Role += "; delegate of " + o.Name + " to " + a.Name
		a.Members = append(a.Members, o.Second)
	}
	return nil
}

// demoAssemblyLife gives the assemblies their history: in the first, a hybrid meeting
// held with attendance and published minutes, a motion adopted there and answered by
// the city, a next meeting and an open vote; the second is asked for advice.
func (c *demoCity) demoAssemblyLife(ctx context.Context, k, b *demoAssembly, responder *demoPerson) error {
	base := "/api/v1/assemblies/" + k.ID
	start := time.Now().Add(demoAssemblyStart).UTC().Truncate(time.Millisecond)
	var held assemblies.Meeting
	if err := c.API(ctx, k.chair, "POST", base+"/meetings", map[string]any{
		"title": "Bahar toplantısı", "starts_at": start, "ends_at": start.Add(2 * time.Hour),
		"place": "Karşıyaka Kültür Merkezi, B salonu", "online_url": "https://toplanti.example/karsiyaka-bahar",
		"agenda": []map[string]any{{"title": "Açılış ve yoklama"}, {"title": "Sahil bisiklet yolu"}, {"title": "Dilek ve öneriler"}},
	}, &held); err != nil {
		return err
	}
	author := c.Residents[k.Members[2]]
	var bike assemblies.Motion
	if err := c.API(ctx, author, "POST", base+"/motions", map[string]any{
		"title": "Bostanlı ile Karşıyaka iskelesi arasına korunaklı bisiklet yolu",
		"text":  "Sahil boyunca yayalarla bisikletlileri ayıran, en az iki metre genişliğinde, aydınlatılmış bir bisiklet yolu yapılmasını öneriyoruz. Hafta sonları yürüyüş yolu bisikletlilerle doluyor; çocuklar ve yaşlılar için tehlikeli.",
	}, &bike); err != nil {
		return err
	}
	mpath := base + "/motions/" + bike.ID
	if err := c.API(ctx, k.chair, "POST", mpath+"/sponsor", nil, nil); err != nil {
		return err
	}
	if err := c.API(ctx, author, "POST", mpath+"/table", nil, nil); err != nil {
		return err
	}
	// The meeting begins: attendance, the vote held there, and its minutes.
	select {
	case <-time.After(time.Until(start) + 50*time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	hpath := base + "/meetings/" + held.ID
	ids := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, c.Residents[i].User.ID)
		}
		return out
	}
	remote := k.Members[len(k.Members)-1]
	if err := c.API(ctx, k.secretary, "POST", hpath+"/attendance", map[string]any{
		"user_ids": ids(k.Members[:len(k.Members)-1]...), "remote_user_ids": ids(remote),
	}, nil); err != nil {
		return err
	}
	if err := c.API(ctx, k.chair, "POST", mpath+"/vote/open", map[string]any{"meeting_id": held.ID}, nil); err != nil {
		return err
	}
	for n, i := range k.Members {
		choice := "yes"
		if n == len(k.Members)-1 {
			choice = "abstain"
		}
		if err := c.API(ctx, c.Residents[i], "POST", mpath+"/vote/ballots", map[string]any{"choice": choice}, nil); err != nil {
			return err
		}
	}
	var closed assemblies.CloseResult
	if err := c.API(ctx, k.chair, "POST", mpath+"/vote/close", nil, &closed); err != nil {
		return err
	}
	if closed.Outcome != assemblies.StateAdopted {
		return fmt.Errorf("the bicycle lane was %s, not adopted", closed.Outcome)
	}
	for _, step := range []struct {
		who        *demoPerson
		path, what string
		body       any
	}{
		{k.secretary, hpath + "/minutes", "write the minutes", map[string]any{"minutes": "Toplantıya dört üye katıldı, biri çevrim içi. " +
			"Sahil bisiklet yolu önergesi gizli oylamayla kabul edildi (3 evet, 1 çekimser) ve belediyeye iletildi. " +
			"Bir sonraki toplantıda pazar yeri düzeni konuşulacak."}},
		{k.chair, hpath + "/minutes/approve", "approve the minutes", nil},
		{k.secretary, hpath + "/minutes/publish", "publish the minutes", nil},
		{responder, mpath + "/acknowledge", "acknowledge the motion", nil},
		{responder, mpath + "/answer", "answer the motion", map[string]any{"decision": assemblies.DecisionPartlyAccepted,
			"reasoning": "Bostanlı ile Karşıyaka iskelesi arasındaki bölüm bu yılın yatırım programına alındı ve sonbaharda yapılacak. " +
				"Aydınlatma için ayrı bir ihale gerekiyor; önümüzdeki yılın bütçesinde değerlendireceğiz."}},
	} {
		if err := c.API(ctx, step.who, "POST", step.path, step.body, nil); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
	}

	// What is still ahead: a motion on the next meeting's agenda, whose vote is open.
	var market assemblies.Motion
	if err := c.API(ctx, k.secretary, "POST", base+"/motions", map[string]any{
		"title": "Pazar yerinde tezgâhlar arasına geniş yürüme yolu",
		"text":  "Cumartesi pazarında tezgâhlar arasındaki yol tekerlekli sandalye ve bebek arabası geçemeyecek kadar dar. Tezgâhların yeniden dizilmesini öneriyoruz.",
	}, &market); err != nil {
		return err
	}
	next := start.Add(7 * 24 * time.Hour)
	if err := c.API(ctx, k.chair, "POST", base+"/meetings", map[string]any{
		"title": "Haziran toplantısı", "starts_at": next, "ends_at": next.Add(2 * time.Hour),
		"place": "Karşıyaka Kültür Merkezi, B salonu", "online_url": "https://toplanti.example/karsiyaka-haziran",
		"agenda": []map[string]any{{"title": "Pazar yeri düzeni", "motion_id": market.ID}, {"title": "Dilek ve öneriler"}},
	}, nil); err != nil {
		return err
	}
	ppath := base + "/motions/" + market.ID
	if err := c.API(ctx, k.secretary, "POST", ppath+"/table", nil, nil); err != nil {
		return err
	}
	if err := c.API(ctx, k.chair, "POST", ppath+"/vote/open", nil, nil); err != nil {
		return err
	}
	for _, i := range k.Members[:2] {
		if err := c.API(ctx, c.Residents[i], "POST", ppath+"/vote/ballots", map[string]any{"choice": "yes"}, nil); err != nil {
			return err
		}
	}

	// The city asks the second assembly for advice.
	return c.API(ctx, responder, "POST", "/api/v1/assemblies/"+b.ID+"/motions", map[string]any{
		"kind": assemblies.KindConsultation, "title": "Bornova Meydanı'nın yayalaştırılması",
		"text":          "Belediye, Bornova Meydanı çevresindeki iki sokağı trafiğe kapatmayı planlıyor. Esnafın ve komşuların görüşünü, özellikle teslimat saatleri konusunda, öğrenmek istiyoruz.",
		"advice_due_at": time.Now().Add(21 * 24 * time.Hour).UTC().Truncate(time.Second),
	}, nil)
}
