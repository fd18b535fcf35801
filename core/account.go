package core

import "context"

// Account mail (issue 17): a local account proves its address by a link sent to it and
// recovers a forgotten password the same way. Each link carries a single-use token
// that expires; the core keeps only its hash. Registration answers the same whether or
// not the address has an account, and mails the owner instead.

// PasswordResetRequest asks for a reset link to be mailed to Email, if it has an
// account; the answer never says whether it has.
type PasswordResetRequest struct {
	Email string `json:"email" max:"254"`
}

// PasswordReset sets a new password with the token of a reset link.
type PasswordReset struct {
	Token       string `json:"token" max:"200"`
	NewPassword string `json:"new_password" max:"128"`
}

// EmailVerification verifies an address with the token of a verification link.
type EmailVerification struct {
	Token string `json:"token" max:"200"`
}

// AccountMail is one account mail to write: its purpose (PurposeVerifyEmail,
// PurposeResetPassword or PurposeAccountExists), the person's language, address and
// name, and the token its link carries (none for PurposeAccountExists).
type AccountMail struct {
	Purpose string
	Lang    string
	To      string
	Name    string
	Token   string
}

// AccountMailComposer writes account mail in the person's language, with the links
// of the city's site.
type AccountMailComposer interface {
	ComposeAccountMail(m AccountMail) (Mail, error)
}

// AccountMailService is what the pages and the API do about account mail.
type AccountMailService interface {
	// ResendVerification mails the acting person a fresh verification link, unless
	// their address is verified; a few a hour at most (later calls change nothing).
	ResendVerification(ctx context.Context) error
	// VerifyEmail verifies the address a verification token was sent to, once,
	// before it expires, if it is still the account's. A token that does not
	// qualify fails with EINVALID naming "token".
	VerifyEmail(ctx context.Context, v EmailVerification) error
	// RequestPasswordReset mails a reset link to the address if it has an account,
	// and answers the same either way.
	RequestPasswordReset(ctx context.Context, r PasswordResetRequest) error
	// ResetPassword sets a new password (by the core's rules) with a reset token,
	// once, before it expires, and ends every session of the person.
	ResetPassword(ctx context.Context, r PasswordReset) error
}

// RuleToken refuses a verification or reset token that is unknown, used, expired or
// for another purpose: the answer does not say which.
const RuleToken = "token"
