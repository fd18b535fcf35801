package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
)

// Account mail's routes: confirming an address and resetting a forgotten password
// with the tokens of mailed links, and asking for the links.

func (s *Server) verifyEmail(c *fiber.Ctx) error {
	var in core.EmailVerification
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := s.svc.Identity.VerifyEmail(c.UserContext(), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) resendVerification(c *fiber.Ctx) error {
	if err := s.svc.Identity.ResendVerification(c.UserContext()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// forgotPassword answers 202 whether or not the address has an account.
func (s *Server) forgotPassword(c *fiber.Ctx) error {
	var in core.PasswordResetRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := s.svc.Identity.RequestPasswordReset(c.UserContext(), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) resetPassword(c *fiber.Ctx) error {
	var in core.PasswordReset
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := s.svc.Identity.ResetPassword(c.UserContext(), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
