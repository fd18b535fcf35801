package core

import (
	"strings"
	"testing"
)

func TestNotificationRequest_Check(t *testing.T) {
	good := func() NotificationRequest {
		return NotificationRequest{ID: "evt-1", Kind: "assemblies.motion.answered", Source: "assemblies", Recipients: []string{"u1"},
			Subject: "assemblies.motion:m1", Link: "/assemblies/a1/motions/m1",
			Texts: map[string]NotificationText{"en": {Title: "Answered", Body: "The city answered.\n\n\tThanks."}}}
	}
	if err := good().Check(); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for _, c := range []struct {
		name, field string
		change      func(r *NotificationRequest)
	}{
		{"no id", "id", func(r *NotificationRequest) { r.ID = "" }},
		{"huge id", "id", func(r *NotificationRequest) { r.ID = strings.Repeat("9", 65) }},
		{"NUL in id", "id", func(r *NotificationRequest) { r.ID = "evt\x00" }},
		{"huge recipient", "recipients", func(r *NotificationRequest) { r.Recipients = []string{strings.Repeat("u", 1000)} }},
		{"NUL in except", "except", func(r *NotificationRequest) { r.Except = []string{"u\x00"} }},
		{"invalid UTF-8 kind", "kind", func(r *NotificationRequest) { r.Kind = "a\xffb" }},
		{"empty follower subject", "followers", func(r *NotificationRequest) { r.Followers = []string{""} }},
		{"off-site link", "link", func(r *NotificationRequest) { r.Link = "//evil.example/x" }},
		{"absolute link", "link", func(r *NotificationRequest) { r.Link = "https://evil.example/x" }},
		{"backslash link", "link", func(r *NotificationRequest) { r.Link = `/\evil.example` }},
		{"no texts", "texts", func(r *NotificationRequest) { r.Texts = nil }},
		{"NUL in title", "texts.en.title", func(r *NotificationRequest) { r.Texts["en"] = NotificationText{Title: "a\x00", Body: ""} }},
		{"two-line title", "texts.en.title", func(r *NotificationRequest) { r.Texts["en"] = NotificationText{Title: "a\nb"} }},
		{"NUL in body", "texts.en.body", func(r *NotificationRequest) { r.Texts["en"] = NotificationText{Title: "a", Body: "b\x00"} }},
		{"huge body", "texts.en.body", func(r *NotificationRequest) {
			r.Texts["en"] = NotificationText{Title: "a", Body: strings.Repeat("b", MaxNotificationBody+1)}
		}},
	} {
		r := good()
		c.change(&r)
		err := r.Check()
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s: err = %v, want invalid", c.name, err)
			continue
		}
		if _, ok := err.(*Error).Fields[c.field]; !ok {
			t.Errorf("%s: fields %v, want %s named", c.name, err.(*Error).Fields, c.field)
		}
	}
}
