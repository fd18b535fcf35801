package consultations

import "github.com/kvarter/kvarter/sdk"

// Notification kinds (locales/notify.<tag>.toml words them).
const (
	// NotifyResponse tells every participant, anonymous ones too, the city's response.
	NotifyResponse = "consultations.response"
)

// notificationKinds are the manifest's notification kinds.
func notificationKinds() []sdk.NotificationKind {
	return append([]sdk.NotificationKind{
		notifyCatalog().Kind(NotifyResponse, sdk.DeliverImmediately),
	}, ideaNotificationKinds()...)
}

// Subjects and the pages they point at.
func consultationSubject(id string) string { return "consultations.consultation:" + id }
func consultationLink(id string) string    { return "/consultations/" + id }
