package httpapi

import (
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// ruleAllRowsImportable is the rule of a membership import refused as a whole: it is
// all or nothing.
const ruleAllRowsImportable = "all_rows_importable"

func (s *Server) register(c *fiber.Ctx) error {
	var in core.Registration
	if err := decode(c, &in, false); err != nil {
		return err
	}
	u, err := s.svc.Identity.Register(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *Server) login(c *fiber.Ctx) error {
	var in core.LoginAttempt
	if err := decode(c, &in, false); err != nil {
		return err
	}
	in.ClientIP, in.UserAgent = s.clientIP(c), c.Get(fiber.HeaderUserAgent)
	res, err := s.svc.Identity.Login(c.UserContext(), in)
	if err != nil {
		if m := s.cfg.Metrics; m != nil {
			switch core.ErrorCode(err) {
			case core.EUNAUTHENTICATED:
				m.LoginFailed()
			case core.ERATELIMITED:
				m.LoginThrottled()
			}
		}
		return err
	}
	expires := time.Now().Add(24 * time.Hour)
	if res.Session.ExpiresAt != nil {
		expires = *res.Session.ExpiresAt
	}
	s.setSessionCookies(c, res.Token, res.CSRFToken, expires)
	return c.JSON(res)
}

func (s *Server) logout(c *fiber.Ctx) error {
	token, _ := c.Locals(localToken).(string)
	if token == "" {
		return core.Errorf(core.EUNAUTHENTICATED, "You are not signed in.")
	}
	if err := s.svc.Identity.Logout(c.UserContext(), token); err != nil {
		return err
	}
	s.clearSessionCookies(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	me, err := s.svc.Identity.Me(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(me)
}

func (s *Server) exportMe(c *fiber.Ctx) error {
	data, err := core.ExportPerson(c.UserContext(), s.svc.Identity, s.svc.Exports)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="kvarter-export.json"`)
	return c.JSON(data)
}

func (s *Server) deleteMe(c *fiber.Ctx) error {
	if err := s.svc.Identity.DeleteAccount(c.UserContext()); err != nil {
		return err
	}
	s.clearSessionCookies(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listSessions(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Identity.ListSessions(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) revokeSession(c *fiber.Ctx) error {
	if err := s.svc.Identity.RevokeSession(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Identity.ListTokens(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) createToken(c *fiber.Ctx) error {
	var in tokenInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	t, err := s.svc.Identity.CreateToken(c.UserContext(), in.Name, in.Scope)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	if err := s.svc.Identity.RevokeToken(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listNeighbourhoods(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Neighbourhoods.ListNeighbourhoods(c.UserContext(), c.QueryBool("include_archived"), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) createNeighbourhood(c *fiber.Ctx) error {
	var in core.NeighbourhoodInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	n, err := s.svc.Neighbourhoods.CreateNeighbourhood(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

func (s *Server) getNeighbourhood(c *fiber.Ctx) error {
	n, err := s.svc.Neighbourhoods.FindNeighbourhood(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *Server) updateNeighbourhood(c *fiber.Ctx) error {
	var in core.NeighbourhoodUpdate
	if err := decode(c, &in, false); err != nil {
		return err
	}
	n, err := s.svc.Neighbourhoods.UpdateNeighbourhood(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *Server) requestMembership(c *fiber.Ctx) error {
	var in noteInput
	if err := decode(c, &in, true); err != nil {
		return err
	}
	m, err := s.svc.Neighbourhoods.RequestMembership(c.UserContext(), c.Params("id"), in.Note)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) listMemberships(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Neighbourhoods.ListMemberships(c.UserContext(), c.Params("id"), c.Query("state"), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) decideMembership(c *fiber.Ctx, decision string) error {
	var in reasonInput
	if err := decode(c, &in, true); err != nil {
		return err
	}
	m, err := s.svc.Neighbourhoods.DecideMembership(c.UserContext(), c.Params("id"), c.Params("userID"), decision, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) approveMembership(c *fiber.Ctx) error { return s.decideMembership(c, "approve") }
func (s *Server) rejectMembership(c *fiber.Ctx) error  { return s.decideMembership(c, "reject") }
func (s *Server) revokeMembership(c *fiber.Ctx) error  { return s.decideMembership(c, "revoke") }

func (s *Server) leaveNeighbourhood(c *fiber.Ctx) error {
	if err := s.svc.Neighbourhoods.LeaveNeighbourhood(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) importMemberships(c *fiber.Ctx) error {
	body := c.Body()
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			return core.MalformedField("file", "cannot be read")
		}
		defer f.Close()
		if body, err = io.ReadAll(f); err != nil {
			return core.MalformedField("file", "cannot be read")
		}
	}
	rep, err := s.svc.Neighbourhoods.ImportMemberships(c.UserContext(), body)
	if err != nil {
		return err
	}
	if !rep.Imported {
		// The error format, with the report beside it so the operator sees each row.
		e := core.InvalidField("file", ruleAllRowsImportable, "has rows that cannot be imported")
		e.Message = "Nothing was imported: some rows cannot be imported. See the report."
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{
			"error":  sdk.ErrorDetail{Code: e.Code, Message: e.Message, Fields: e.Fields, RequestID: requestID(c)},
			"report": rep,
		})
	}
	return c.JSON(rep)
}

func (s *Server) listOrganisations(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Organisations.ListOrganisations(c.UserContext(), c.Query("state"), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) createOrganisation(c *fiber.Ctx) error {
	var in core.OrganisationInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	o, err := s.svc.Organisations.CreateOrganisation(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

func (s *Server) getOrganisation(c *fiber.Ctx) error {
	o, err := s.svc.Organisations.FindOrganisation(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) decideOrganisation(c *fiber.Ctx, decision string) error {
	var in reasonInput
	if err := decode(c, &in, true); err != nil {
		return err
	}
	o, err := s.svc.Organisations.DecideOrganisation(c.UserContext(), c.Params("id"), decision, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) verifyOrganisation(c *fiber.Ctx) error { return s.decideOrganisation(c, "verify") }
func (s *Server) rejectOrganisation(c *fiber.Ctx) error { return s.decideOrganisation(c, "reject") }

func (s *Server) listOrganisationMembers(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Organisations.ListOrganisationMembers(c.UserContext(), c.Params("id"), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) addOrganisationMember(c *fiber.Ctx) error {
	var in organisationMemberInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if in.UserID == "" {
		return core.InvalidField("user_id", core.RuleRequired, "is required")
	}
	m, err := s.svc.Organisations.AddOrganisationMember(c.UserContext(), c.Params("id"), in.UserID, in.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) removeOrganisationMember(c *fiber.Ctx) error {
	if err := s.svc.Organisations.RemoveOrganisationMember(c.UserContext(), c.Params("id"), c.Params("userID")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// searchUsers finds people by part of their email address or name, so that a role is
// granted to someone picked from a list rather than to a typed id.
func (s *Server) searchUsers(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	out, next, err := s.svc.Identity.SearchUsers(c.UserContext(), c.Query("q"), pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

func (s *Server) getUser(c *fiber.Ctx) error {
	u, err := s.svc.Identity.FindUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) listGrants(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	domain := c.Query("domain", core.DomainCity)
	out, next, err := s.svc.Roles.ListGrants(c.UserContext(), domain, pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}

// Bodies of the core's routes that have no domain type of their own. Their `max` tags
// are the limits decode enforces (sdk.CheckInput) and the OpenAPI document states.
type (
	grantInput struct {
		UserID string `json:"user_id" max:"64"`
		Role   string `json:"role" max:"100"`
		Domain string `json:"domain" max:"100"`
	}
	tokenInput struct {
		Name  string `json:"name" max:"100"`
		Scope string `json:"scope" max:"10"`
	}
	noteInput struct {
		Note string `json:"note" max:"500"`
	}
	reasonInput struct {
		Reason string `json:"reason" max:"500"`
	}
	organisationMemberInput struct {
		UserID string `json:"user_id" max:"64"`
		Role   string `json:"role" max:"32"`
	}
)

func (s *Server) grantRole(c *fiber.Ctx) error {
	var in grantInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	g, err := s.svc.Roles.Grant(c.UserContext(), core.RoleGrant{UserID: in.UserID, Role: in.Role, Domain: in.Domain})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

func (s *Server) revokeRole(c *fiber.Ctx) error {
	var in grantInput
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if err := s.svc.Roles.Revoke(c.UserContext(), core.RoleGrant{UserID: in.UserID, Role: in.Role, Domain: in.Domain}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listAudit(c *fiber.Ctx) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	f := core.AuditFilter{ActorID: c.Query("actor_id"), Action: c.Query("action"), Domain: c.Query("domain"), Target: c.Query("target")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return core.InvalidField(name, core.RuleFormat, "must be an RFC 3339 time such as 2026-05-01T00:00:00Z")
			}
			*dst = t
		}
	}
	out, next, err := s.svc.Audit.ListAudit(c.UserContext(), f, pg)
	if err != nil {
		return err
	}
	return list(c, out, next)
}
