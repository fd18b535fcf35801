package consultations

import (
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

// The route table's handlers: parse the request, call one service method, return its
// answer (the SDK encodes it, and answers errors in the error format).

func caller(r *http.Request) sdk.Principal { return sdk.PrincipalFrom(r.Context()) }

func (p *Plugin) list(r *http.Request, q sdk.ListQuery) (sdk.Page[Consultation], error) {
	f := ListFilter{Stage: Stage(r.URL.Query().Get("stage")), Neighbourhood: r.URL.Query().Get("neighbourhood"), Kind: Kind(r.URL.Query().Get("kind"))}
	if err := f.check(); err != nil {
		return sdk.Page[Consultation]{}, err
	}
	return p.svc.List(r.Context(), caller(r), f, q)
}

func (p *Plugin) create(r *http.Request, in ConsultationInput) (*Consultation, error) {
	return p.svc.Create(r.Context(), caller(r), in)
}

func (p *Plugin) get(r *http.Request) (*Consultation, error) {
	return p.svc.Get(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) update(r *http.Request, in ConsultationInput) (*Consultation, error) {
	return p.svc.Update(r.Context(), caller(r), r.PathValue("id"), in)
}

func (p *Plugin) delete(r *http.Request, _ sdk.NoBody) (sdk.NoBody, error) {
	return sdk.NoBody{}, p.svc.Delete(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) publish(r *http.Request, _ sdk.NoBody) (*Consultation, error) {
	return p.svc.Publish(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) close(r *http.Request, _ sdk.NoBody) (*Consultation, error) {
	return p.svc.Close(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) addAttachment(w http.ResponseWriter, r *http.Request) error {
	if err := sdk.UploadError(r, "file"); err != nil {
		return err
	}
	a, err := p.svc.AddAttachment(r.Context(), caller(r), r.PathValue("id"), sdk.UploadID(r, "file"), r.PostFormValue("name"))
	if err != nil {
		return err
	}
	sdk.WriteJSON(w, http.StatusCreated, a)
	return nil
}

func (p *Plugin) removeAttachment(r *http.Request, _ sdk.NoBody) (sdk.NoBody, error) {
	return sdk.NoBody{}, p.svc.RemoveAttachment(r.Context(), caller(r), r.PathValue("id"), r.PathValue("upload"))
}

func (p *Plugin) eligibility(r *http.Request) (Eligibility, error) {
	return p.svc.Eligibility(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) myAnswer(r *http.Request) (Answer, error) {
	return p.svc.MyAnswer(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) submit(r *http.Request, in AnswerInput) (Answer, error) {
	return p.svc.Submit(r.Context(), caller(r), r.PathValue("id"), in)
}

func (p *Plugin) edit(r *http.Request, in AnswerInput) (Answer, error) {
	return p.svc.Edit(r.Context(), caller(r), r.PathValue("id"), in)
}

func (p *Plugin) texts(r *http.Request, q sdk.ListQuery) (sdk.Page[Text], error) {
	return p.svc.Texts(r.Context(), caller(r), r.PathValue("id"), q)
}

func (p *Plugin) decideText(r *http.Request, in TextDecision) (Text, error) {
	return p.svc.DecideText(r.Context(), caller(r), r.PathValue("id"), r.PathValue("text"), in)
}

func (p *Plugin) previewResults(r *http.Request) (*Results, error) {
	return p.svc.PreviewResults(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) publishResults(r *http.Request, _ sdk.NoBody) (*Results, error) {
	return p.svc.PublishResults(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) results(r *http.Request) (*Results, error) {
	return p.svc.Results(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) resultsCSV(w http.ResponseWriter, r *http.Request) error {
	res, err := p.svc.Results(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="consultation-`+res.ConsultationID+`.csv"`)
	return res.WriteCSV(w)
}

func (p *Plugin) respond(r *http.Request, in ResponseInput) (*Consultation, error) {
	return p.svc.Respond(r.Context(), caller(r), r.PathValue("id"), in)
}
