package budgeting

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kvarter/kvarter/sdk"
)

const base = "/api/v1/budgeting"

// routes are the manifest's routes. Route permissions are checked by the host in any
// domain ("" Domain) because a route names a cycle, not a neighbourhood; the service
// then checks the permission in the cycle's own neighbourhood.
var routes = []sdk.Route{
	{Method: "GET", Path: base + "/cycles", Permission: sdk.PermPublic},
	{Method: "POST", Path: base + "/cycles", Permission: PermCycleManage},
	{Method: "GET", Path: base + "/cycles/{id}", Permission: sdk.PermPublic},
	{Method: "POST", Path: base + "/cycles/{id}/phase", Permission: PermCycleManage},
	{Method: "GET", Path: base + "/cycles/{id}/proposals", Permission: sdk.PermPublic},
	{Method: "POST", Path: base + "/cycles/{id}/proposals", Permission: sdk.PermAuthenticated},
	{Method: "GET", Path: base + "/cycles/{id}/proposals/{proposalID}", Permission: sdk.PermPublic},
	{Method: "PATCH", Path: base + "/cycles/{id}/proposals/{proposalID}", Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: base + "/cycles/{id}/proposals/{proposalID}/support", Permission: PermProposalSupport},
	{Method: "POST", Path: base + "/cycles/{id}/proposals/{proposalID}/review", Permission: PermProposalReview},
	{Method: "POST", Path: base + "/cycles/{id}/proposals/{proposalID}/updates", Permission: PermProjectUpdate},
	{Method: "POST", Path: base + "/cycles/{id}/ballots", Permission: PermBallotCast},
	{Method: "POST", Path: base + "/cycles/{id}/paper-ballots", Permission: PermBallotPaper},
	{Method: "GET", Path: base + "/cycles/{id}/turnout", Permission: sdk.PermPublic},
	{Method: "POST", Path: base + "/cycles/{id}/tally", Permission: PermResultsPublish},
	{Method: "GET", Path: base + "/cycles/{id}/results", Permission: sdk.PermPublic},
	{Method: "GET", Path: base + "/cycles/{id}/export.pb", Permission: sdk.PermPublic},
	{Method: "POST", Path: base + "/cycles/{id}/import", Permission: PermCycleManage, MaxBodyBytes: maxImportBody},
}

// maxImportBody bounds a Pabulib import, which may be a city's whole vote and run to
// several megabytes. The route declares it, so the host lets such
// a body through and refuses a larger one before it reaches the plugin; JSON bodies
// keep the host's default and sdk.DecodeJSON's bound.
const maxImportBody = 16 << 20

type handler struct {
	svc *Service
	log *slog.Logger
}

// newHandler returns the plugin's routes on a Go 1.22 ServeMux. Each handler parses,
// calls one service method and renders.
func newHandler(svc *Service, log *slog.Logger) http.Handler {
	h := &handler{svc: svc, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/cycles", h.listCycles)
	mux.HandleFunc("POST "+base+"/cycles", h.createCycle)
	mux.HandleFunc("GET "+base+"/cycles/{id}", h.getCycle)
	mux.HandleFunc("POST "+base+"/cycles/{id}/phase", h.setPhase)
	mux.HandleFunc("GET "+base+"/cycles/{id}/proposals", h.listProposals)
	mux.HandleFunc("POST "+base+"/cycles/{id}/proposals", h.submitProposal)
	mux.HandleFunc("GET "+base+"/cycles/{id}/proposals/{proposalID}", h.getProposal)
	mux.HandleFunc("PATCH "+base+"/cycles/{id}/proposals/{proposalID}", h.editProposal)
	mux.HandleFunc("POST "+base+"/cycles/{id}/proposals/{proposalID}/support", h.support)
	mux.HandleFunc("POST "+base+"/cycles/{id}/proposals/{proposalID}/review", h.review)
	mux.HandleFunc("POST "+base+"/cycles/{id}/proposals/{proposalID}/updates", h.update)
	mux.HandleFunc("POST "+base+"/cycles/{id}/ballots", h.castBallot)
	mux.HandleFunc("POST "+base+"/cycles/{id}/paper-ballots", h.paperBallots)
	mux.HandleFunc("GET "+base+"/cycles/{id}/turnout", h.turnout)
	mux.HandleFunc("POST "+base+"/cycles/{id}/tally", h.tally)
	mux.HandleFunc("GET "+base+"/cycles/{id}/results", h.results)
	mux.HandleFunc("GET "+base+"/cycles/{id}/export.pb", h.export)
	mux.HandleFunc("POST "+base+"/cycles/{id}/import", h.importPB)
	return mux
}

// list is a page of items.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (h *handler) listCycles(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	limit, err := limitParam(qs.Get("limit"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cs, next, err := h.svc.Cycles(r.Context(), CycleFilter{
		NeighbourhoodID: qs.Get("neighbourhood_id"), ParentID: qs.Get("parent_id"), Cursor: qs.Get("cursor"), Limit: limit,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, list[*Cycle]{Items: cs, NextCursor: next})
}

func limitParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, sdk.InvalidField("limit", "must be a whole number from 1 to 200")
	}
	return n, nil
}

func (h *handler) createCycle(w http.ResponseWriter, r *http.Request) {
	var in CreateCycleInput
	if !h.decode(w, r, &in) {
		return
	}
	c, err := h.svc.CreateCycle(r.Context(), sdk.PrincipalFrom(r.Context()), in)
	h.render(w, r, http.StatusCreated, c, err)
}

func (h *handler) getCycle(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.Cycle(r.Context(), r.PathValue("id"))
	h.render(w, r, http.StatusOK, c, err)
}

// phaseInput is the body of POST /cycles/{id}/phase.
type phaseInput struct {
	Phase Phase `json:"phase" max:"32"`
}

func (h *handler) setPhase(w http.ResponseWriter, r *http.Request) {
	var in phaseInput
	if !h.decode(w, r, &in) {
		return
	}
	c, err := h.svc.SetPhase(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in.Phase)
	h.render(w, r, http.StatusOK, c, err)
}

func (h *handler) listProposals(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	limit, err := limitParam(qs.Get("limit"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ps, next, err := h.svc.Proposals(r.Context(), r.PathValue("id"), qs.Get("status"), qs.Get("cursor"), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, list[*Proposal]{Items: ps, NextCursor: next})
}

func (h *handler) submitProposal(w http.ResponseWriter, r *http.Request) {
	var in ProposalInput
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.SubmitProposal(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, p, err)
}

func (h *handler) getProposal(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Proposal(r.Context(), r.PathValue("id"), r.PathValue("proposalID"))
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) editProposal(w http.ResponseWriter, r *http.Request) {
	var in ProposalInput
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.EditProposal(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("proposalID"), in)
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) support(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Support(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("proposalID"))
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) review(w http.ResponseWriter, r *http.Request) {
	var in ReviewInput
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.Review(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("proposalID"), in)
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	var in UpdateInput
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.UpdateImplementation(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("proposalID"), in)
	h.render(w, r, http.StatusCreated, p, err)
}

func (h *handler) castBallot(w http.ResponseWriter, r *http.Request) {
	var in BallotInput
	if !h.decode(w, r, &in) {
		return
	}
	// The manifest route requires PermBallotCast, which the host checks before the
	// request gets here.
	ctx := withRouteChecked(r.Context(), PermBallotCast)
	rc, err := h.svc.CastBallot(ctx, sdk.PrincipalFrom(ctx), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, rc, err)
}

// paperBallotsInput is the body of POST /cycles/{id}/paper-ballots.
type paperBallotsInput struct {
	Ballots []Ballot `json:"ballots"`
}

func (h *handler) paperBallots(w http.ResponseWriter, r *http.Request) {
	var in paperBallotsInput
	if !h.decode(w, r, &in) {
		return
	}
	n, err := h.svc.EnterPaperBallots(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in.Ballots)
	h.render(w, r, http.StatusCreated, map[string]int{"recorded": n}, err)
}

func (h *handler) turnout(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.Turnout(r.Context(), r.PathValue("id"))
	h.render(w, r, http.StatusOK, t, err)
}

func (h *handler) tally(w http.ResponseWriter, r *http.Request) {
	var in TallyInput
	if !h.decode(w, r, &in) {
		return
	}
	res, err := h.svc.Tally(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, res, err)
}

func (h *handler) results(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Results(r.Context(), r.PathValue("id"))
	h.render(w, r, http.StatusOK, res, err)
}

func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	// Render into a buffer so an error half way never leaves a truncated file with
	// a 200 status.
	var buf bytes.Buffer
	if err := h.svc.Export(r.Context(), r.PathValue("id"), &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("id")+`.pb"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (h *handler) importPB(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		h.fail(w, r, sdk.Malformed("could not read the file: %v", err))
		return
	}
	sum, err := h.svc.Import(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), data)
	h.render(w, r, http.StatusCreated, sum, err)
}

// decode reads a JSON body strictly; on failure it answers 400 and returns false.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := sdk.DecodeJSON(r, v, false); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, status, v)
}

// fail renders err in the core's error format (sdk.WriteError). Only internal errors
// are logged; their text never reaches the caller.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	sdk.WriteError(w, r, h.log, err)
}
