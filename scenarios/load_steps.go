package scenarios

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/kycsim/kycsim/internal/yamldoc"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
)

// This file reads the values the schema has shaped into a Scenario, with
// the checks that need the catalog or the rest of the file. A check that
// fails notes its error (l.fail) and reading goes on; the first error
// noted is the one Load returns, so the checks run in the order their
// errors should be told.

func (l *loader) scenario() *Scenario {
	root := l.d.Value.(map[string]any)
	text := func(k string) string { return yamldoc.Text(root[k]) }
	sc := &Scenario{Pos: l.at(""), Name: text("name"), Description: strings.TrimRight(text("description"), "\n")}
	var err error
	if l.p, err = l.cat.Product(text("product")); err != nil {
		l.fail(l.errf("/product", "%w", err))
		return nil
	}
	sc.Product = l.p.Name
	sc.Tags = yamldoc.Texts(root["tags"])
	sc.Vars = l.varsOf()
	if c, ok := root["case"].(map[string]any); ok {
		sc.Case = &Case{ID: yamldoc.Text(c["id"]), Level: yamldoc.Text(c["level"]), Rule: yamldoc.Text(c["rule"]), Source: yamldoc.Text(c["source"])}
		if !caseID.MatchString(sc.Case.ID) || !strings.HasPrefix(sc.Case.ID, sc.Product+".") {
			l.fail(l.errf("/case/id", "case id %q: want %s.CLASS.NAME in lower-case words, digits and dashes", sc.Case.ID, sc.Product))
		}
	}
	steps := root["steps"].([]any)
	l.collectIDs(steps)
	for i := 0; i < len(steps) && l.err == nil; i++ {
		sc.Steps = append(sc.Steps, l.step("/steps/"+strconv.Itoa(i), false))
	}
	return sc
}

func (l *loader) varsOf() []Var {
	var out []Var
	for _, name := range l.d.Keys("/vars") {
		ptr := yamldoc.Pointer("/vars", name)
		v := Var{Name: name, Pos: l.keyAt(ptr)}
		switch g := l.d.Lookup(ptr).(type) {
		case map[string]any:
			v.Generate = yamldoc.Text(g["generate"])
			for _, k := range []string{"handled", "prefer-handled"} {
				if _, ok := g[k]; ok {
					v.Handled, v.Prefer = l.messages(ptr+"/"+k, "var "+name+" "+k), k == "prefer-handled"
				}
			}
		default:
			v.Value = yamldoc.Text(g)
		}
		out = append(out, v)
	}
	for i := range out {
		l.vars[out[i].Name] = &out[i]
	}
	return out
}

// messages reads a list of the product's message names.
func (l *loader) messages(ptr, what string) []string {
	names := yamldoc.Texts(l.d.Lookup(ptr))
	for i, name := range names {
		msg, err := l.p.Message(name)
		if err != nil {
			l.fail(l.errf(ptr+"/"+strconv.Itoa(i), "%s: %w", what, err))
			return names
		}
		names[i] = msg.Name
	}
	return names
}

// collectIDs notes every send step id of the file first, so that a
// redeliver of a later step says so.
func (l *loader) collectIDs(steps []any) {
	for i, s := range steps {
		m, _ := s.(map[string]any)
		id, ok := m["id"]
		if _, send := m["send"]; !send || !ok {
			continue
		}
		ptr := "/steps/" + strconv.Itoa(i) + "/id"
		if prev, dup := l.ids[yamldoc.Text(id)]; dup {
			l.fail(l.errf(ptr, "id %q is used twice (first at %d:%d)", yamldoc.Text(id), prev.pos.Line, prev.pos.Col))
			continue
		}
		l.ids[yamldoc.Text(id)] = &sendID{pos: l.at(ptr)}
	}
}

func (l *loader) step(ptr string, inParallel bool) Step {
	m := l.d.Lookup(ptr).(map[string]any)
	k := kinds[slices.IndexFunc(kinds, func(k string) bool { _, ok := m[k]; return ok })]
	kptr := ptr + "/" + k
	st := Step{Kind: StepKind(k), Pos: l.at(ptr), Name: yamldoc.Text(m["name"])}
	switch st.Kind {
	case KindSend:
		st.Send = l.send(ptr, m)
		if id, ok := m["id"]; ok && !inParallel && l.ids[yamldoc.Text(id)] != nil {
			st.ID = yamldoc.Text(id)
			l.ids[st.ID].defined, l.ids[st.ID].raw = true, st.Send.RawBody != nil
		}
	case KindWait:
		st.Wait = l.duration(kptr, "wait")
	case KindRedeliver:
		st.Redeliver = l.redeliver(ptr, m)
	case KindParallel:
		st.Parallel, st.Identical = l.parallel(kptr)
	case KindVendorState:
		st.VendorState = l.vendorState(kptr)
	case KindExpect:
		st.Expect = l.effects(kptr)
	}
	return st
}

func (l *loader) send(ptr string, m map[string]any) *Send {
	text := func(k string) string { return yamldoc.Text(m[k]) }
	s := &Send{Message: text("send"), Subject: text("subject"), ReviewAnswer: text("review-answer"), RejectType: text("reject-type"),
		SandboxMode: text("sandbox-mode"), RejectCode: text("reject-code")}
	// alternatives are the messages the step may send: one, or those a
	// message variable lists.
	var alternatives []string
	if ref := refPattern.FindStringSubmatch(s.Message); ref != nil && ref[0] == s.Message {
		if v := l.vars[ref[1]]; v != nil && v.Handled != nil {
			alternatives = v.Handled
		} else {
			l.fail(l.errf(ptr+"/send", "send %s: a message variable is declared as {handled: [MESSAGE, ...]} or {prefer-handled: [...]}", s.Message))
		}
	} else if msg, err := l.p.Message(s.Message); err != nil {
		l.fail(l.errf(ptr+"/send", "%w", err))
	} else {
		s.Message, alternatives = msg.Name, []string{msg.Name}
	}
	if raw, ok := m["raw-body"]; ok {
		b := yamldoc.Text(raw)
		l.expandable(ptr+"/raw-body", b, "raw-body")
		s.RawBody = &b
	}
	l.expandable(ptr+"/subject", s.Subject, "subject")
	for _, k := range []string{"set", "set-unknown"} {
		s.Set = append(s.Set, l.overrides(ptr+"/"+k, k, alternatives, k == "set")...)
	}
	if u, ok := m["unset"]; ok {
		s.Unset = yamldoc.Texts(u)
		for i, p := range s.Unset {
			l.path(ptr+"/unset/"+strconv.Itoa(i), p, "unset", alternatives, true)
		}
	}
	s.Age = l.duration(ptr+"/age", "age")
	s.Precision = optInt(m, "precision")
	if _, ok := m["reject-code"]; ok {
		l.rejectCode(ptr+"/reject-code", s.RejectCode, s.Message, alternatives)
	}
	if v, ok := m["reject-labels"]; ok {
		s.RejectLabels = yamldoc.Texts(v)
	}
	s.Sign = l.signing(ptr + "/sign")
	// The headers a recorded callback came with (kycsim record), sent
	// by run --as-recorded instead of signing.
	s.Recorded = l.headers(ptr+"/recorded-headers", "recorded header")
	s.Delivery = l.delivery(ptr, m)
	s.Expect = l.answer(ptr + "/expect")
	return s
}

// overrides reads a set or set-unknown mapping: paths whose fields the
// message has (known) or does not have (!known), and JSON values, whose
// strings may hold ${references} and whose keys are sent as written.
func (l *loader) overrides(ptr, what string, alternatives []string, known bool) []Override {
	m, _ := l.d.Lookup(ptr).(map[string]any)
	var out []Override
	for _, path := range l.d.Keys(ptr) {
		at := yamldoc.Pointer(ptr, path)
		l.path(at, path, what, alternatives, known)
		var walk func(ptr string, v any)
		walk = func(ptr string, v any) {
			switch v := v.(type) {
			case string:
				l.expandable(ptr, v, what+" "+path)
			case []any:
				for i, e := range v {
					walk(ptr+"/"+strconv.Itoa(i), e)
				}
			case map[string]any:
				for _, k := range l.d.Keys(ptr) {
					if strings.Contains(k, "${") {
						l.fail(l.keyErrf(yamldoc.Pointer(ptr, k), "%s %s: the key %q%s", what, path, k, notExpanded))
					}
					walk(yamldoc.Pointer(ptr, k), v[k])
				}
			}
		}
		walk(at, m[path])
		out = append(out, Override{Path: path, Value: m[path], Pos: l.keyAt(at)})
	}
	return out
}

// notExpanded says where ${name} works, for a string the runner sends as
// written.
const notExpanded = " is sent as written: ${name} works only in subject, set, unset, raw-body, sign.secret, headers, from and forwarded-for"

// path checks a set, set-unknown or unset path, at the key or entry ptr:
// its references, its syntax, and the field it names against the
// catalog's fields of the messages the step may send. With known (set,
// unset) the path must name a field of at least one of them (the runner
// skips an unset of a field the chosen one lacks); without (set-unknown),
// of none. A path with ${references} names a field only once it runs, and
// is not checked.
func (l *loader) path(ptr, path, what string, alternatives []string, known bool) {
	if err := l.refsError(ptr, path, what+" "+path); err != nil {
		l.fail(l.keyErrf(ptr, "%s", err.Msg))
		return
	}
	if _, err := event.ParsePath(path); err != nil {
		l.fail(l.keyErrf(ptr, "%s: %w", what, err))
		return
	}
	if strings.Contains(path, "${") || len(alternatives) == 0 {
		return
	}
	var first *event.UnknownFieldError
	for _, msg := range alternatives {
		fields, err := l.messageFields(msg)
		if err == nil {
			err = fields.Check(path)
		}
		var ue *event.UnknownFieldError
		switch {
		case errors.As(err, &ue):
			first = cmpOr(first, ue)
		case err != nil:
			l.fail(l.keyErrf(ptr, "%s %s: %w", what, path, err))
			return
		case !known:
			l.fail(l.keyErrf(ptr, "%s %s: %q is a field of %s %s; set it with set (set-unknown is for fields the document does not name)", what, path, path, l.p.Name, msg))
			return
		default:
			return
		}
	}
	if !known {
		return
	}
	msg := fmt.Sprintf("%s %s: %q names no field of %s %s", what, path, first.At, l.p.Name, orList(alternatives))
	if first.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", first.Suggestion)
	}
	if what == "set" {
		msg += " (set-unknown sets a field the document does not name)"
	}
	l.fail(&yamldoc.Error{Pos: l.d.KeyAt(ptr), Ptr: ptr, Msg: msg, Err: first})
}

// cmpOr returns a unless it is nil, else b.
func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// messageFields returns the fields of a message of the product.
func (l *loader) messageFields(message string) (*event.Fields, error) {
	if f, ok := l.fields[message]; ok {
		return f, nil
	}
	f, err := event.MessageFields(l.p, message)
	if err == nil {
		l.fields[message] = f
	}
	return f, err
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// rejectCode checks a Netverify reject code: one the guide lists for each
// message the step may send.
func (l *loader) rejectCode(ptr, code, send string, alternatives []string) {
	for _, msg := range alternatives {
		codes := event.RejectCodes(msg)
		if slices.Contains(codes, code) {
			continue
		}
		codesOf := fmt.Sprintf("%s codes are %s", msg, strings.Join(codes, ", "))
		if send != msg {
			codesOf = fmt.Sprintf("%s may be %s, whose codes are %s", send, msg, strings.Join(codes, ", "))
		}
		switch st := event.RejectCodeStatus(code); {
		case codes == nil && send != msg:
			l.fail(l.errf(ptr, "reject-code %q: %s may be %s, which carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, send, msg))
		case codes == nil:
			l.fail(l.errf(ptr, "reject-code %q: %s carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, msg))
		case st == "":
			l.fail(l.errf(ptr, "reject-code %q is not a Netverify reject code; %s", code, codesOf))
		default:
			l.fail(l.errf(ptr, "reject-code %q belongs to %s; %s", code, st, codesOf))
		}
		return
	}
}

func (l *loader) signing(ptr string) Signing {
	m, _ := l.d.Lookup(ptr).(map[string]any)
	// The schema holds alg to the algorithms' names.
	s := Signing{Digest: yamldoc.Text(m["digest"]), Algorithm: yamldoc.Text(m["alg"]), Secret: optText(m, "secret"), AlgorithmHeader: optText(m, "alg-header")}
	if s.Secret != nil {
		l.expandable(ptr+"/secret", *s.Secret, "secret")
	}
	if h := s.AlgorithmHeader; h != nil {
		if _, _, err := simulator.ParseHeader(signing.AlgorithmHeader + ": " + *h); err != nil {
			l.fail(l.errf(ptr+"/alg-header", "alg-header: %v", err))
		}
	}
	return s
}

// delivery reads the delivery keys of a send or redeliver step. from and
// forwarded-for are left out when their variables expand to "": a run's
// variables can move a case between a bound source and a forwarded one.
func (l *loader) delivery(ptr string, m map[string]any) Delivery {
	d := Delivery{From: yamldoc.Text(m["from"]), ForwardedFor: yamldoc.Text(m["forwarded-for"]), ContentType: yamldoc.Text(m["content-type"])}
	if a := l.address(ptr+"/from", d.From, "from"); a != "" {
		if _, err := simulator.ParseSource(a); err != nil {
			l.fail(l.errf(ptr+"/from", "from: %v", err))
		}
	}
	if a := l.address(ptr+"/forwarded-for", d.ForwardedFor, "forwarded-for"); a != "" {
		for _, hop := range strings.Split(a, ",") {
			if _, err := netip.ParseAddr(strings.TrimSpace(hop)); err != nil {
				l.fail(l.errf(ptr+"/forwarded-for", "forwarded-for: %q is not an IP address (give one or a comma-separated list; headers can send anything)", strings.TrimSpace(hop)))
			}
		}
	}
	if hs := l.headers(ptr+"/headers", "header"); len(hs) > 0 {
		d.Headers = hs
	}
	if _, ok := m["content-type"]; ok {
		if _, _, err := simulator.ParseHeader("Content-Type: " + d.ContentType); err != nil {
			l.fail(l.errf(ptr+"/content-type", "content-type: %v", err))
		}
	}
	switch r := m["retry"].(type) {
	case bool:
		d.Retry = r
	case []any:
		d.Retry = true
		for i := range r {
			d.Delays = append(d.Delays, l.duration(ptr+"/retry/"+strconv.Itoa(i), "retry delay"))
		}
	}
	d.AnswerTimeout = l.duration(ptr+"/answer-timeout", "answer-timeout")
	return d
}

// headers reads a mapping of header names to values that may hold
// ${references} (nil when absent).
func (l *loader) headers(ptr, what string) []Header {
	m, ok := l.d.Lookup(ptr).(map[string]any)
	if !ok {
		return nil
	}
	out := []Header{}
	for _, h := range l.d.Keys(ptr) {
		at := yamldoc.Pointer(ptr, h)
		name, value, err := simulator.ParseHeader(h + ": " + yamldoc.Text(m[h]))
		if err != nil {
			l.fail(l.keyErrf(at, "%w", err))
		}
		l.expandable(at, value, what+" "+name)
		out = append(out, Header{Name: name, Value: value})
	}
	return out
}

// answer reads the expect key of a send or redeliver step (nil when
// absent): a status, or {status, within, attempts}.
func (l *loader) answer(ptr string) *Answer {
	v, ok := l.d.Get(ptr)
	if !ok {
		return nil
	}
	a := &Answer{Pos: l.at(ptr), Status: yamldoc.Text(v)}
	if m, isMap := v.(map[string]any); isMap {
		a.Status, a.Attempts, a.Within = yamldoc.Text(m["status"]), yamldoc.Int(m["attempts"]), l.duration(ptr+"/within", "within")
	}
	return a
}

func (l *loader) redeliver(ptr string, m map[string]any) *Redeliver {
	rd := &Redeliver{Step: yamldoc.Text(m["redeliver"])}
	switch id, ok := l.ids[rd.Step]; {
	case !ok:
		var known []string
		for name, id := range l.ids {
			if id.defined {
				known = append(known, name)
			}
		}
		slices.Sort(known)
		list := strings.Join(known, ", ")
		if len(known) == 0 {
			list = "none so far"
		}
		l.fail(l.errf(ptr+"/redeliver", "redeliver %q: no send step has this id (earlier ids: %s)", rd.Step, list))
	case !id.defined:
		l.fail(l.errf(ptr+"/redeliver", "redeliver %q: the step comes later (line %d); redeliver an earlier send step", rd.Step, id.pos.Line))
	default:
		if rd.Restamp, _ = m["restamp"].(bool); rd.Restamp && id.raw {
			l.fail(l.keyErrf(ptr+"/restamp", "restamp: step %q sends a raw body, which has no timestamp to renew", rd.Step))
		}
	}
	if slices.ContainsFunc([]string{"from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout"}, func(k string) bool { _, has := m[k]; return has }) {
		d := l.delivery(ptr, m)
		rd.Delivery = &d
	}
	rd.Expect = l.answer(ptr + "/expect")
	return rd
}

// parallel reads the steps played at once: a sequence, or {count: N,
// send|redeliver: ...} for N copies of one step, which identical makes
// byte-identical copies of one send.
func (l *loader) parallel(ptr string) (out []Step, identical bool) {
	if m, ok := l.d.Lookup(ptr).(map[string]any); ok {
		one := l.step(ptr, true)
		for range yamldoc.Int(m["count"]) {
			out = append(out, one)
		}
		identical, _ = m["identical"].(bool)
		return out, identical
	}
	for i := range l.d.Lookup(ptr).([]any) {
		out = append(out, l.step(ptr+"/"+strconv.Itoa(i), true))
	}
	return out, false
}

// vendorState reads a vendor-state step; the schema has checked that its
// keys are the product's.
func (l *loader) vendorState(ptr string) *VendorState {
	m, _ := l.d.Lookup(ptr).(map[string]any)
	text := func(k string) string { return yamldoc.Text(m[k]) }
	vs := &VendorState{Subject: text("subject"), Decision: text("decision"), Label: text("label"),
		ReviewStatus: text("review-status"), ReviewAnswer: text("review-answer"), RejectType: text("reject-type")}
	l.expandable(ptr+"/subject", vs.Subject, "subject")
	vs.RiskScore = optInt(m, "risk-score")
	vs.Capability, _ = m["capabilities"].(map[string]any)
	if v, ok := m["reject-labels"]; ok {
		vs.RejectLabels = yamldoc.Texts(v)
	}
	return vs
}

// effects reads an expect step.
func (l *loader) effects(ptr string) *Effects {
	m := l.d.Lookup(ptr).(map[string]any)
	e := &Effects{Pos: l.at(ptr), Subject: yamldoc.Text(m["subject"]), NotStatus: optText(m, "not-status"), Decision: optText(m, "decision"),
		Events: optInt(m, "events"), Status: optText(m, "status"), Fetches: optInt(m, "fetches")}
	l.expandable(ptr+"/subject", e.Subject, "subject")
	if e.Status != nil && m["status"] == nil {
		*e.Status = "null"
	} else if e.Status != nil {
		l.expandable(ptr+"/status", *e.Status, "status")
	}
	e.Within = l.duration(ptr+"/within", "within")
	return e
}
