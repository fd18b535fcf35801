package assemblies

import (
	"net/http"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// A draft is its author's and the assembly's members' and officers' until it is
// tabled: the JSON routes keep it from everyone else as the motion page does. (They
// used to answer it to anyone who knew or listed its address.)
func TestMotions_DraftsStayWithMembers(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("alsancak", nil)
		ms := e.members(a, 2)
		author, member := ms[0], ms[1]
		outsider := e.resident("outsider", "alsancak")
		var draft, tabled Motion
		e.Must(201, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions", map[string]any{"title": "Draft", "text": "Not yet."}).Decode(t, &draft)
		tabled = e.tabled(a, author, "Tabled")
		one, list := "/api/v1/assemblies/"+a.ID+"/motions/"+draft.ID, "/api/v1/assemblies/"+a.ID+"/motions"

		listed := func(p sdk.Principal) map[string]bool {
			var pg sdk.Page[Motion]
			e.Must(200, p, "GET", list, nil).Decode(t, &pg)
			out := map[string]bool{}
			for _, m := range pg.Items {
				out[m.ID] = true
			}
			return out
		}
		for name, p := range map[string]sdk.Principal{"the author": author, "a member": member, "the chair": chair, "the city": e.admin()} {
			e.Must(200, p, "GET", one, nil)
			if got := listed(p); !got[draft.ID] || !got[tabled.ID] {
				t.Errorf("%s's list of motions: %v, want the draft and the tabled motion", name, got)
			}
		}
		for name, p := range map[string]sdk.Principal{"anonymous": e.As(""), "a resident who is no member": outsider} {
			if r := e.Do(p, "GET", one, nil); r.Status != http.StatusNotFound {
				t.Errorf("%s reads the draft: %d %s", name, r.Status, r.Body)
			}
			if got := listed(p); got[draft.ID] || !got[tabled.ID] {
				t.Errorf("%s's list of motions: %v, want the tabled motion only", name, got)
			}
			if got := listed(p); len(got) != 1 {
				t.Errorf("%s lists %d motions, want 1", name, len(got))
			}
		}

		// The author who leaves still finds their own draft; the members no longer
		// hide it from them, and the tabled one stays public.
		e.Must(200, author, "POST", "/api/v1/assemblies/"+a.ID+"/leave", nil)
		e.Must(200, author, "GET", one, nil)
		if got := listed(author); !got[draft.ID] {
			t.Errorf("the author who left does not find their draft: %v", got)
		}
		e.Must(200, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+draft.ID+"/withdraw", nil)
		if r := e.Do(e.As(""), "GET", one, nil); r.Status != http.StatusOK {
			t.Errorf("a withdrawn draft is no longer a draft, and public: %d", r.Status)
		}
	})
}
