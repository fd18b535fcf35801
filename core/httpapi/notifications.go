package httpapi

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
)

// The signed-in person's notifications, their deliveries per kind and what they follow
// (DESIGN.md §11), and the one-click unsubscribe of a notification mail (RFC 8058),
// which needs no sign-in: the signed token is the authority.

func (s *Server) notificationService() (core.NotificationService, error) {
	if s.svc.Notifications == nil {
		return nil, core.Errorf(core.ENOTFOUND, "This node sends no notifications.")
	}
	return s.svc.Notifications, nil
}

func (s *Server) listNotifications(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := svc.Notifications(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

// unreadCount is the answer of GET /me/notifications/unread-count.
type unreadCount struct {
	Count int `json:"count"`
}

func (s *Server) countUnreadNotifications(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	n, err := svc.UnreadCount(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(unreadCount{Count: n})
}

// markReadInput names the notifications to mark read.
type markReadInput struct {
	IDs []string `json:"ids" max:"64"`
}

func (s *Server) markNotificationsRead(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	var in markReadInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := svc.MarkRead(c.UserContext(), in.IDs); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) markAllNotificationsRead(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	if err := svc.MarkAllRead(c.UserContext()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// preferenceOut is one kind with the person's delivery of it, its label in the
// requester's language.
type preferenceOut struct {
	Kind     string            `json:"kind"`
	Source   string            `json:"source"`
	Label    string            `json:"label"`
	Labels   map[string]string `json:"labels"`
	Default  core.Delivery     `json:"default"`
	Delivery core.Delivery     `json:"delivery"`
	Chosen   bool              `json:"chosen"`
}

func (s *Server) listNotificationPreferences(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	prefs, err := svc.Preferences(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderPreferences(c, prefs)
}

func (s *Server) renderPreferences(c *fiber.Ctx, prefs []core.NotificationPreference) error {
	lang := requestLanguage(c, principal(c), s.cfg.Pages.Languages)
	out := make([]preferenceOut, len(prefs))
	for i, p := range prefs {
		label := p.Kind.Labels[lang]
		if label == "" {
			label = p.Kind.Labels["en"]
		}
		if label == "" {
			label = p.Kind.Name
		}
		labels := p.Kind.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		out[i] = preferenceOut{Kind: p.Kind.Name, Source: p.Kind.Source, Label: label, Labels: labels,
			Default: p.Kind.Default, Delivery: p.Delivery, Chosen: p.Chosen}
	}
	return list(c, out, "")
}

// preferencesInput changes deliveries: kind name → delivery.
type preferencesInput struct {
	Deliveries map[string]core.Delivery `json:"deliveries" max:"20"`
}

func (s *Server) setNotificationPreferences(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	var in preferencesInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := svc.SetPreferences(c.UserContext(), in.Deliveries); err != nil {
		return err
	}
	prefs, err := svc.Preferences(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderPreferences(c, prefs)
}

func (s *Server) listFollows(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := svc.Follows(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) unfollow(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	// A subject holds ":" and may come percent-encoded; Fiber leaves it as sent.
	subject, err := url.PathUnescape(c.Params("subject"))
	if err != nil {
		return core.MalformedField("subject", "is not a percent-encoded subject")
	}
	if err := urlText("subject", subject, 0); err != nil {
		return err
	}
	if err := svc.Unfollow(c.UserContext(), subject); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// unsubscribed is the answer of a one-click unsubscribe: the kind now in-app only.
type unsubscribed struct {
	Kind     string        `json:"kind"`
	Delivery core.Delivery `json:"delivery"`
}

// unsubscribe is the one-click unsubscribe of RFC 8058: the mail's List-Unsubscribe
// URL with ?token=, POSTed by the mail client with the body
// "List-Unsubscribe=One-Click" (form-encoded), or by a script with the token alone.
// It needs no sign-in and no anti-forgery header: the token signs the person and the
// kind, and changes nothing else.
func (s *Server) unsubscribe(c *fiber.Ctx) error {
	svc, err := s.notificationService()
	if err != nil {
		return err
	}
	token := c.Query("token")
	if token == "" {
		token = c.FormValue("token")
	}
	if token == "" {
		return core.InvalidField("token", core.RuleRequired, "is required: the token of the mail's unsubscribe link")
	}
	k, err := svc.Unsubscribe(c.UserContext(), token)
	if err != nil {
		return err
	}
	return c.JSON(unsubscribed{Kind: k.Name, Delivery: core.DeliverInApp})
}
