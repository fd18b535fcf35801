package sdk

import (
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

func TestPrincipalCache(t *testing.T) {
	var c principalCache
	enc := func(id string) []byte {
		b, err := proto.Marshal(&pb.Principal{UserId: id, Roles: map[string]*pb.RoleList{"nbh:n-1": {Roles: []string{"resident"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc("u-a")
	for range 3 {
		v, err := c.decode(a)
		p, _ := v.(Principal)
		if err != nil || p.UserID != "u-a" || !p.HasRole("nbh:n-1", "resident") {
			t.Fatalf("decode = %+v, %v", v, err)
		}
	}
	if len(c.m) != 1 {
		t.Errorf("one caller decoded into %d entries", len(c.m))
	}
	if v, _ := c.decode(enc("u-b")); v.(Principal).UserID != "u-b" {
		t.Errorf("second caller decoded as %+v", v)
	}
	if v, err := c.decode(nil); err != nil || v.(Principal).Authenticated() {
		t.Errorf("no principal decoded as %+v, %v", v, err)
	}
	if _, err := c.decode([]byte{0xff, 0xff}); err == nil {
		t.Error("garbage decoded")
	}
	for i := range principalCacheMax + 5 {
		if _, err := c.decode(enc("u-" + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) > principalCacheMax {
		t.Errorf("cache holds %d entries, more than %d", len(c.m), principalCacheMax)
	}
}
