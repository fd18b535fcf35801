package sqlstore

import "github.com/kvarter/kvarter/core"

// CheckUnsubscribe checks token as Unsubscribe does and returns the kind it would
// stop, changing nothing: the one-click link's page names the kind before the person
// confirms (a GET must change nothing, since mail scanners open links). A token that
// does not verify fails with EINVALID. It makes the service a web.UnsubscribeChecker.
func (s *NotificationService) CheckUnsubscribe(token string) (core.NotificationKind, error) {
	_, kind, ok := s.parseUnsubscribeToken(token)
	if !ok {
		return core.NotificationKind{}, core.InvalidField("token", core.RuleFormat, "is not a valid unsubscribe link; copy the whole link from the mail")
	}
	if k, ok := s.kind(kind); ok {
		return k, nil
	}
	return core.NotificationKind{Name: kind, Default: core.DeliverInApp}, nil
}
