package sandboxapi

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// pageLinkLifetime is how long the page link of a verification that
// does not expire by itself (a Sumsub applicant) opens its page.
const pageLinkLifetime = 24 * time.Hour

// pageURL is the link to a verification's page the API hands out, with
// its capability.
func (s *Server) pageURL(v *sandbox.Verification, rec *record) string {
	u := s.cfg.PublicURL + "/web/" + url.PathEscape(v.ID)
	if rec != nil && rec.PageKey != "" {
		u += "?cap=" + rec.PageKey
	}
	return u
}

// pageAccess lets a request see a verification's page: with the control
// token (or when the sandbox has none), or with the capability of the
// link the API handed out while it holds.
func (s *Server) pageAccess(r *http.Request) error {
	err := s.control(r)
	if err == nil {
		return nil
	}
	c := r.URL.Query().Get("cap")
	if c == "" {
		return errorf(http.StatusUnauthorized, "this page needs the link the API handed out (web.href, redirectUrl, the WebSDK link) or the control token")
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	_, rec, verr := s.store.view(ctx, mux.Vars(r)["id"])
	if verr != nil || rec.PageKey == "" || subtle.ConstantTimeCompare([]byte(c), []byte(rec.PageKey)) != 1 {
		return errorf(http.StatusUnauthorized, "this page link is not valid: ask the API for a new one")
	}
	if !s.cfg.Clock.Now().Before(rec.PageUntil) {
		return errorf(http.StatusGone, "this page link expired at %s (sandbox time): the verification's token or session ended", rec.PageUntil.UTC().Format(time.RFC3339))
	}
	return nil
}

// page wraps a handler of the outcome page: access (the control token
// or the link's capability), and errors as a plain page.
func (s *Server) page(h handlerFunc) http.Handler {
	return s.pageAt("/web/{id}", s.pageAccess, h)
}

// tokenIsAccess lets every request through to a handler that checks a
// capability of its own (the WebSDK link's signed, expiring token).
func tokenIsAccess(*http.Request) error { return nil }

// pageAt is page for another route, with its own access check.
func (s *Server) pageAt(route string, access func(*http.Request) error, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(w, route)
		err := access(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			status := statusOf(err)
			if status == http.StatusInternalServerError {
				s.log.Error("page failed", "path", r.URL.Path, "err", err)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			pageTmpl.ExecuteTemplate(w, "error", map[string]any{"Status": status, "Message": messageOf(err)})
		}
	})
}

// pageReasons are offered on the page for a rejection: KYX decision
// labels, Netverify reject codes (DENIED_FRAUD: 100, 105-111;
// ERROR_NOT_READABLE_ID: the others), Sumsub reject labels.
var pageReasons = map[string][]string{
	"jumio-kyx":       {"MANIPULATED_DOCUMENT", "FRAUDSTER", "DIGITAL_COPY", "NO_MATCH", "PHOTOCOPY"},
	"jumio-netverify": {"100", "105", "106", "107", "108", "109", "110", "111", "102", "103", "104", "200", "201", "202", "206", "207", "209", "210", "211", "300"},
	"sumsub":          {"FORGERY", "UNSATISFACTORY_PHOTOS", "SCREENSHOTS", "DOCUMENT_PAGE_MISSING", "SPAM"},
}

// pageGet shows the outcome page of a verification. Opening a Jumio KYX
// page starts the acquisition (ACQUISITION_STARTED; the 15-minute session
// timeout runs from now).
func (s *Server) pageGet(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	id := mux.Vars(r)["id"]
	v, err := s.cfg.Store.Verification(ctx, id)
	if err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	if v.Product == "jumio-kyx" && !rec.Started && rec.Outcome == "" {
		if v, _, err = s.enqueueOutcome(ctx, id, "jumio-kyx", "STARTED", "", func(v *sandbox.Verification, rec *record) error {
			if rec.Started || rec.Outcome != "" {
				return errorf(http.StatusConflict, "already started")
			}
			rec.Started = true
			v.ExpiresAt = s.cfg.Clock.Now().Add(sessionTimeout)
			rec.PageUntil = v.ExpiresAt // the link lasts as long as the session
			return nil
		}); err != nil && statusOf(err) != http.StatusConflict {
			return err
		}
		if v == nil {
			if v, err = s.cfg.Store.Verification(ctx, id); err != nil {
				return err
			}
		}
		if rec, err = readRecord(v); err != nil {
			return err
		}
	}
	return s.renderPage(w, r, v, rec, "")
}

// pagePost applies the outcome a person picked.
func (s *Server) pagePost(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	id := mux.Vars(r)["id"]
	if err := r.ParseForm(); err != nil {
		if statusOf(bodyError(err)) == http.StatusRequestEntityTooLarge {
			return bodyError(err)
		}
		return errorf(http.StatusBadRequest, "form: %v", err)
	}
	outcome, reason := r.PostForm.Get("outcome"), r.PostForm.Get("reason")
	v, err := s.cfg.Store.Verification(ctx, id)
	if err != nil {
		return err
	}
	switch v.Product {
	case "sumsub":
		rec, err := readRecord(v)
		if err != nil {
			return err
		}
		if rec.Outcome != "" {
			return errorf(http.StatusConflict, "applicant %s is already reviewed", id)
		}
		if status, _ := rec.statusAt(s.cfg.Clock.Now(), "init"); status == "init" {
			if _, _, err := s.enqueueOutcome(ctx, id, "sumsub", "PENDING", "", func(*sandbox.Verification, *record) error { return nil }); err != nil {
				return err
			}
		}
		req := testCompletedRequest{ReviewAnswer: outcome, ReviewRejectType: r.PostForm.Get("rejectType")}
		if outcome == "RED" && reason != "" {
			req.RejectLabels = []string{reason}
		}
		if outcome != "GREEN" && outcome != "RED" {
			return errorf(http.StatusBadRequest, "outcome %q: pick GREEN or RED", outcome)
		}
		if err := s.review(ctx, id, req); err != nil {
			return err
		}
	default:
		if outcome == "REJECTED" && v.Product == "jumio-kyx" && reason == "" {
			reason = "MANIPULATED_DOCUMENT"
		}
		if _, _, err := s.enqueueOutcome(ctx, id, v.Product, outcome, reason, nil); err != nil {
			return err
		}
	}
	if v, err = s.cfg.Store.Verification(ctx, id); err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	return s.renderPage(w, r, v, rec, outcome)
}

// renderPage writes the page of a verification.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, v *sandbox.Verification, rec *record, picked string) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	ds, err := s.cfg.Store.Deliveries(ctx, sandbox.DeliveryFilter{VerificationID: v.ID, Limit: sandbox.MaxLimit})
	if err != nil {
		return err
	}
	type row struct {
		ID               int64
		Message, State   string
		Due              string
		Attempts, Status int
	}
	var rows []row
	for _, d := range ds {
		rw := row{ID: d.ID, Message: d.Message, State: string(d.State), Attempts: len(d.History)}
		if !d.NextAttemptAt.IsZero() {
			rw.Due = d.NextAttemptAt.UTC().Format(time.RFC3339)
		}
		if n := len(d.History); n > 0 {
			rw.Status = d.History[n-1].Status
		}
		rows = append(rows, rw)
	}
	outcomes := Outcomes(v.Product)
	if v.Product == "sumsub" {
		outcomes = []string{"GREEN", "RED"}
	}
	action := "/web/" + url.PathEscape(v.ID)
	if c := r.URL.Query().Get("cap"); c != "" {
		action += "?cap=" + url.QueryEscape(c)
	} else if t := r.URL.Query().Get("control-token"); t != "" {
		action += "?control-token=" + url.QueryEscape(t)
	}
	status, _ := rec.statusAt(s.cfg.Clock.Now(), v.Status)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	return pageTmpl.ExecuteTemplate(w, "page", map[string]any{
		"V": v, "Status": status, "Outcome": rec.Outcome, "Picked": picked, "Outcomes": outcomes,
		"Reasons": pageReasons[v.Product], "Action": action, "Deliveries": rows, "Sumsub": v.Product == "sumsub",
	})
}

var pageTmpl = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kycsim sandbox</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} fieldset{border:1px solid #ccc;border-radius:.4rem;margin:1rem 0}
label{display:block;margin:.3rem 0} button{font-size:1rem;padding:.5rem 1.2rem;margin-top:.5rem}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
code{background:#f4f4f4;padding:0 .2rem;overflow-wrap:anywhere} .done{background:#e8f5e9;padding:.6rem;border-radius:.4rem}
select{max-width:100%}
@media (max-width:600px){body{margin:1rem auto}
#deliveries,#deliveries tbody,#deliveries tr,#deliveries td{display:block;width:100%}
#deliveries tr:first-child{display:none}
#deliveries tr{border-bottom:1px solid #ddd;padding:.3rem 0}
#deliveries td{border:0;padding:.1rem 0;overflow-wrap:anywhere}
#deliveries td::before{content:attr(data-label) ": ";color:#666}}
</style></head><body>{{end}}
{{define "page"}}{{template "head"}}
<h1>kycsim sandbox: {{.V.Product}}</h1>
<p>Verification <code id="verification">{{.V.ID}}</code>{{if .V.ExternalRef}}, reference <code>{{.V.ExternalRef}}</code>{{end}}.
Status: <strong id="status">{{.Status}}</strong>.</p>
{{if .Outcome}}<p class="done" id="outcome">Outcome: <strong>{{.Outcome}}</strong>. The vendor's callbacks are queued below.</p>
{{else}}
<form method="post" action="{{.Action}}" id="pick">
<fieldset><legend>Pick the outcome</legend>
{{range $i, $o := .Outcomes}}<label><input type="radio" name="outcome" value="{{$o}}"{{if eq $i 0}} checked{{end}}> {{$o}}</label>
{{end}}
<label>Reason (for a rejection{{if eq .V.Product "jumio-netverify"}}: DENIED_FRAUD takes 100 and 105 to 111, ERROR_NOT_READABLE_ID the others{{end}}) <select name="reason"><option value="">default</option>{{range .Reasons}}<option value="{{.}}">{{.}}</option>{{end}}</select></label>
{{if .Sumsub}}<label>Reject type <select name="rejectType"><option>FINAL</option><option>RETRY</option></select></label>{{end}}
<button type="submit">Submit</button>
</fieldset></form>
<p>Or leave the page: the token, or the session, expires by itself on the sandbox clock.</p>
{{end}}
<h2>Callbacks</h2>
{{if .Deliveries}}<table id="deliveries"><tr><th>#</th><th>message</th><th>state</th><th>attempts</th><th>last status</th><th>next attempt</th></tr>
{{range .Deliveries}}<tr><td data-label="#">{{.ID}}</td><td data-label="message">{{.Message}}</td><td data-label="state">{{.State}}</td><td data-label="attempts">{{.Attempts}}</td><td data-label="last status">{{if .Status}}{{.Status}}{{end}}</td><td data-label="next attempt">{{.Due}}</td></tr>
{{end}}</table>{{else}}<p>None yet.</p>{{end}}
</body></html>{{end}}
{{define "error"}}{{template "head"}}<h1>kycsim sandbox</h1><p>{{.Status}}: {{.Message}}</p></body></html>{{end}}
`))
