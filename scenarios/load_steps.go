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
// the checks that need the catalog or the rest of the file.

func (l *loader) scenario() (*Scenario, error) {
	root := l.d.Value.(map[string]any)
	sc := &Scenario{Pos: l.at(""), Name: str(root["name"]), Description: strings.TrimRight(str(root["description"]), "\n")}
	var err error
	if l.p, err = l.cat.Product(str(root["product"])); err != nil {
		return nil, &loadError{pos: l.at("/product"), msg: err.Error(), err: err}
	}
	sc.Product = l.p.Name
	if t, ok := root["tags"]; ok {
		sc.Tags = strs(t)
		for i, tag := range sc.Tags {
			if slices.Index(sc.Tags, tag) < i {
				return nil, l.errf("/tags/"+strconv.Itoa(i), "tag %q appears twice", tag)
			}
		}
	}
	if sc.Vars, err = l.varsOf(); err != nil {
		return nil, err
	}
	if c, ok := root["case"].(map[string]any); ok {
		sc.Case = &Case{ID: str(c["id"]), Level: str(c["level"]), Rule: str(c["rule"]), Source: str(c["source"])}
		if !caseID.MatchString(sc.Case.ID) || !strings.HasPrefix(sc.Case.ID, sc.Product+".") {
			return nil, l.errf("/case/id", "case id %q: want %s.CLASS.NAME in lower-case words, digits and dashes", sc.Case.ID, sc.Product)
		}
	}
	steps := root["steps"].([]any)
	if err := l.collectIDs(steps); err != nil {
		return nil, err
	}
	for i := range steps {
		st, err := l.step("/steps/"+strconv.Itoa(i), false)
		if err != nil {
			return nil, err
		}
		sc.Steps = append(sc.Steps, st)
	}
	return sc, nil
}

func (l *loader) varsOf() ([]Var, error) {
	var out []Var
	for _, name := range l.d.Keys("/vars") {
		ptr := yamldoc.Pointer("/vars", name)
		if !varPattern.MatchString(name) {
			return nil, l.keyErrf(ptr, "variable name %q: use letters, digits, _ and - (not starting with a digit or -)", name)
		}
		v := Var{Name: name, Pos: l.keyAt(ptr)}
		val, _ := l.get(ptr)
		switch g := val.(type) {
		case map[string]any:
			v.Generate = str(g["generate"])
			for _, k := range []string{"handled", "prefer-handled"} {
				if _, ok := g[k]; ok {
					var err error
					if v.Handled, err = l.messages(ptr+"/"+k, "var "+name+" "+k); err != nil {
						return nil, err
					}
					v.Prefer = k == "prefer-handled"
				}
			}
		default:
			if v.Value = str(g); strings.Contains(v.Value, "${") {
				return nil, l.errf(ptr, "var %s: a variable's value is taken as written; it cannot refer to ${variables}", name)
			}
		}
		out = append(out, v)
	}
	for i := range out {
		l.vars[out[i].Name] = &out[i]
	}
	return out, nil
}

// messages reads a list of the product's message names.
func (l *loader) messages(ptr, what string) ([]string, error) {
	v, _ := l.get(ptr)
	names := strs(v)
	for i, name := range names {
		msg, err := l.p.Message(name)
		if err != nil {
			return nil, &loadError{pos: l.at(ptr + "/" + strconv.Itoa(i)), msg: what + ": " + err.Error(), err: err}
		}
		names[i] = msg.Name
	}
	return names, nil
}

// collectIDs notes every send step id of the file first, so that a
// redeliver of a later step says so.
func (l *loader) collectIDs(steps []any) error {
	for i, s := range steps {
		m, _ := s.(map[string]any)
		id, ok := m["id"]
		if _, send := m["send"]; !send || !ok {
			continue
		}
		ptr := "/steps/" + strconv.Itoa(i) + "/id"
		if prev, dup := l.ids[str(id)]; dup {
			return l.errf(ptr, "id %q is used twice (first at %d:%d)", str(id), prev.pos.Line, prev.pos.Col)
		}
		l.ids[str(id)] = &sendID{pos: l.at(ptr)}
	}
	return nil
}

func (l *loader) step(ptr string, inParallel bool) (Step, error) {
	m := yamldoc.Lookup(l.d.Value, ptr).(map[string]any)
	k := l.kindOf(ptr)[0]
	kptr := ptr + "/" + k
	st := Step{Kind: StepKind(k), Pos: l.at(ptr), Name: str(m["name"])}
	var err error
	switch st.Kind {
	case KindSend:
		if st.Send, err = l.send(ptr, m); err != nil {
			return Step{}, err
		}
		if id, ok := m["id"]; ok {
			if inParallel {
				return Step{}, l.keyErrf(ptr+"/id", "a send inside parallel has no id: redeliver names a step before the parallel one")
			}
			if st.ID = str(id); !idPattern.MatchString(st.ID) {
				return Step{}, l.errf(ptr+"/id", "id %q: use lower-case letters, digits and dashes", st.ID)
			}
			l.ids[st.ID].defined, l.ids[st.ID].raw = true, st.Send.RawBody != nil
		}
	case KindWait:
		st.Wait, err = l.duration(kptr, "wait")
	case KindRedeliver:
		st.Redeliver, err = l.redeliver(ptr, m)
	case KindParallel:
		st.Parallel, err = l.parallel(kptr)
	case KindVendorState:
		st.VendorState, err = l.vendorState(kptr)
	case KindExpect:
		st.Expect, err = l.effects(kptr)
	}
	return st, err
}

// onlyFor are the send keys that apply to some products only.
var onlyFor = []struct{ key, products string }{
	{"precision", "Jumio products"}, {"reject-code", "jumio-netverify"}, {"sandbox-mode", "sumsub"}, {"review-answer", "sumsub"},
	{"reject-type", "sumsub"}, {"reject-labels", "sumsub"}, {"sign", "sumsub (Jumio callbacks are not signed)"},
}

func (l *loader) send(ptr string, m map[string]any) (*Send, error) {
	s := &Send{Message: str(m["send"]), Subject: str(m["subject"]), ReviewAnswer: str(m["review-answer"]),
		RejectType: str(m["reject-type"]), SandboxMode: str(m["sandbox-mode"])}
	// alternatives are the messages the step may send: one, or those a
	// message variable lists.
	var alternatives []string
	if ref := refPattern.FindStringSubmatch(s.Message); ref != nil && ref[0] == s.Message {
		v := l.vars[ref[1]]
		if v == nil || v.Handled == nil {
			return nil, l.errf(ptr+"/send", "send %s: a message variable is declared as {handled: [MESSAGE, ...]} or {prefer-handled: [...]}", s.Message)
		}
		alternatives = v.Handled
	} else {
		msg, err := l.p.Message(s.Message)
		if err != nil {
			return nil, &loadError{pos: l.at(ptr + "/send"), msg: err.Error(), err: err}
		}
		s.Message, alternatives = msg.Name, []string{msg.Name}
	}
	for _, c := range onlyFor {
		applies := strings.Contains(c.products, l.p.Name) || c.products == "Jumio products" && strings.HasPrefix(l.p.Name, "jumio-")
		if _, has := m[c.key]; has && !applies {
			return nil, l.keyErrf(ptr+"/"+c.key, "%s applies to %s, not %s", c.key, c.products, l.p.Name)
		}
	}
	if raw, ok := m["raw-body"]; ok {
		for _, k := range payloadKeys {
			if _, has := m[k]; has {
				return nil, l.keyErrf(ptr+"/"+k, "%s shapes a built payload; raw-body (line %d) is sent as written", k, l.keyAt(ptr+"/raw-body").Line)
			}
		}
		b := str(raw)
		if err := l.expandable(ptr+"/raw-body", b, "raw-body"); err != nil {
			return nil, err
		}
		s.RawBody = &b
	}
	if _, ok := m["subject"]; ok {
		if err := l.expandable(ptr+"/subject", s.Subject, "subject"); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"set", "set-unknown"} {
		more, err := l.overrides(ptr+"/"+k, k, alternatives, k == "set")
		if err != nil {
			return nil, err
		}
		s.Set = append(s.Set, more...)
	}
	if u, ok := m["unset"]; ok {
		s.Unset = strs(u)
		for i, p := range s.Unset {
			at := ptr + "/unset/" + strconv.Itoa(i)
			if err := l.path(at, p, "unset", alternatives, true); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if _, ok := m["age"]; ok {
		if s.Age, err = l.duration(ptr+"/age", "age"); err != nil {
			return nil, err
		}
	}
	if p, ok := m["precision"]; ok {
		s.Precision = new(int)
		*s.Precision = integer(p)
	}
	if c, ok := m["reject-code"]; ok {
		s.RejectCode = str(c)
		if err := l.literal(l.at(ptr+"/reject-code"), s.RejectCode, "reject-code"); err != nil {
			return nil, err
		}
		if err := l.rejectCode(ptr+"/reject-code", s.RejectCode, s.Message, alternatives); err != nil {
			return nil, err
		}
	}
	if s.RejectLabels, err = l.labels(ptr + "/reject-labels"); err != nil {
		return nil, err
	}
	if s.Sign, err = l.signing(ptr + "/sign"); err != nil {
		return nil, err
	}
	if s.Delivery, err = l.delivery(ptr, m); err != nil {
		return nil, err
	}
	s.Expect, err = l.answer(ptr + "/expect")
	return s, err
}

// overrides reads a set or set-unknown mapping: paths whose fields the
// message has (known) or does not have (!known), and JSON values.
func (l *loader) overrides(ptr, what string, alternatives []string, known bool) ([]Override, error) {
	m, _ := yamldoc.Lookup(l.d.Value, ptr).(map[string]any)
	var out []Override
	for _, path := range l.d.Keys(ptr) {
		at := yamldoc.Pointer(ptr, path)
		if err := l.path(at, path, what, alternatives, known); err != nil {
			return nil, err
		}
		if err := l.jsonRefs(at, m[path], what+" "+path); err != nil {
			return nil, err
		}
		out = append(out, Override{Path: path, Value: m[path], Pos: l.keyAt(at)})
	}
	return out, nil
}

// jsonRefs checks the ${references} of a JSON value's strings; its keys
// are sent as written.
func (l *loader) jsonRefs(ptr string, v any, what string) error {
	switch v := v.(type) {
	case string:
		return l.expandable(ptr, v, what)
	case []any:
		for i, e := range v {
			if err := l.jsonRefs(ptr+"/"+strconv.Itoa(i), e, what); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range l.d.Keys(ptr) {
			if err := l.literal(l.keyAt(yamldoc.Pointer(ptr, k)), k, what+": the key "+strconv.Quote(k)); err != nil {
				return err
			}
			if err := l.jsonRefs(yamldoc.Pointer(ptr, k), v[k], what); err != nil {
				return err
			}
		}
	}
	return nil
}

// path checks a set, set-unknown or unset path: its references, its
// syntax, and the field it names against the catalog's fields of the
// messages the step may send. With known (set, unset) the path must name
// a field of at least one of them (the runner skips an unset of a field
// the chosen one lacks); without (set-unknown), of none. A path with
// ${references} names a field only once it runs, and is not checked.
// Errors about a mapping key are placed at the key.
func (l *loader) path(ptr, path, what string, alternatives []string, known bool) error {
	pos := l.keyAt(ptr)
	if err := l.expandable(ptr, path, what+" "+path); err != nil {
		var le *loadError
		if errors.As(err, &le) {
			le.pos = pos
		}
		return err
	}
	if _, err := event.ParsePath(path); err != nil {
		return &loadError{pos: pos, msg: fmt.Sprintf("%s: %v", what, err), err: err}
	}
	if strings.Contains(path, "${") {
		return nil
	}
	var first *event.UnknownFieldError
	for _, msg := range alternatives {
		fields, err := l.messageFields(msg)
		if err != nil {
			return &loadError{pos: pos, msg: fmt.Sprintf("%s %s: %v", what, path, err), err: err}
		}
		err = fields.Check(path)
		var ue *event.UnknownFieldError
		switch {
		case errors.As(err, &ue):
			if first == nil {
				first = ue
			}
		case err != nil:
			return &loadError{pos: pos, msg: fmt.Sprintf("%s: %v", what, err), err: err}
		case !known:
			return &loadError{pos: pos, msg: fmt.Sprintf("%s %s: %q is a field of %s %s; set it with set (set-unknown is for fields the document does not name)", what, path, path, l.p.Name, msg)}
		default:
			return nil
		}
	}
	if !known {
		return nil
	}
	msg := fmt.Sprintf("%s %s: %q names no field of %s %s", what, path, first.At, l.p.Name, orList(alternatives))
	if first.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", first.Suggestion)
	}
	if what == "set" {
		msg += " (set-unknown sets a field the document does not name)"
	}
	return &loadError{pos: pos, msg: msg, err: first}
}

// messageFields returns the fields of a message of the product.
func (l *loader) messageFields(message string) (*event.Fields, error) {
	if f, ok := l.fields[message]; ok {
		return f, nil
	}
	f, err := event.MessageFields(l.p, message)
	if err != nil {
		return nil, err
	}
	if l.fields == nil {
		l.fields = map[string]*event.Fields{}
	}
	l.fields[message] = f
	return f, nil
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
func (l *loader) rejectCode(ptr, code, send string, alternatives []string) error {
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
			return l.errf(ptr, "reject-code %q: %s may be %s, which carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, send, msg)
		case codes == nil:
			return l.errf(ptr, "reject-code %q: %s carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, msg)
		case st == "":
			return l.errf(ptr, "reject-code %q is not a Netverify reject code; %s", code, codesOf)
		default:
			return l.errf(ptr, "reject-code %q belongs to %s; %s", code, st, codesOf)
		}
	}
	return nil
}

// labels reads Sumsub reject labels (nil when absent).
func (l *loader) labels(ptr string) ([]string, error) {
	v, ok := l.get(ptr)
	if !ok {
		return nil, nil
	}
	out := strs(v)
	for i, s := range out {
		at := ptr + "/" + strconv.Itoa(i)
		if strings.TrimSpace(s) == "" {
			return nil, l.errf(at, "reject-labels: a label is empty")
		}
		if err := l.literal(l.at(at), s, "reject-labels"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l *loader) signing(ptr string) (Signing, error) {
	var s Signing
	m, _ := yamldoc.Lookup(l.d.Value, ptr).(map[string]any)
	if v, ok := m["secret"]; ok {
		secret := str(v)
		if err := l.expandable(ptr+"/secret", secret, "secret"); err != nil {
			return s, err
		}
		s.Secret = &secret
	}
	if v, ok := m["alg"]; ok {
		a, err := signing.ParseAlgorithm(str(v))
		if err != nil {
			return s, l.errf(ptr+"/alg", "%v; to send another name, use alg-header", err)
		}
		s.Algorithm = string(a)
	}
	if v, ok := m["alg-header"]; ok {
		h := str(v)
		if _, _, err := simulator.ParseHeader(signing.AlgorithmHeader + ": " + h); err != nil {
			return s, l.errf(ptr+"/alg-header", "alg-header: %v", err)
		}
		if err := l.literal(l.at(ptr+"/alg-header"), h, "alg-header"); err != nil {
			return s, err
		}
		s.AlgorithmHeader = &h
	}
	s.Digest = str(m["digest"])
	return s, nil
}

// delivery reads the delivery keys of a send or redeliver step. from and
// forwarded-for are left out when their variables expand to "": a run's
// variables can move a case between a bound source and a forwarded one.
func (l *loader) delivery(ptr string, m map[string]any) (Delivery, error) {
	d := Delivery{From: str(m["from"]), ForwardedFor: str(m["forwarded-for"]), ContentType: str(m["content-type"])}
	if _, ok := m["from"]; ok {
		a, err := l.address(ptr+"/from", d.From, "from")
		if err != nil {
			return d, err
		}
		if _, err := simulator.ParseSource(a); a != "" && err != nil {
			return d, l.errf(ptr+"/from", "from: %v", err)
		}
	}
	if _, ok := m["forwarded-for"]; ok {
		a, err := l.address(ptr+"/forwarded-for", d.ForwardedFor, "forwarded-for")
		if err != nil {
			return d, err
		}
		for _, hop := range strings.Split(a, ",") {
			if _, err := netip.ParseAddr(strings.TrimSpace(hop)); a != "" && err != nil {
				return d, l.errf(ptr+"/forwarded-for", "forwarded-for: %q is not an IP address (give one or a comma-separated list; headers can send anything)", strings.TrimSpace(hop))
			}
		}
	}
	headers, _ := m["headers"].(map[string]any)
	for _, h := range l.d.Keys(ptr + "/headers") {
		at := yamldoc.Pointer(ptr+"/headers", h)
		name, value, err := simulator.ParseHeader(h + ": " + str(headers[h]))
		if err != nil {
			return d, &loadError{pos: l.keyAt(at), msg: err.Error(), err: err}
		}
		if err := l.expandable(at, value, "header "+name); err != nil {
			return d, err
		}
		d.Headers = append(d.Headers, Header{Name: name, Value: value})
	}
	if _, ok := m["content-type"]; ok {
		if _, _, err := simulator.ParseHeader("Content-Type: " + d.ContentType); err != nil {
			return d, l.errf(ptr+"/content-type", "content-type: %v", err)
		}
		if err := l.literal(l.at(ptr+"/content-type"), d.ContentType, "content-type"); err != nil {
			return d, err
		}
	}
	switch r := m["retry"].(type) {
	case bool:
		d.Retry = r
	case []any:
		d.Retry = true
		for i := range r {
			dd, err := l.duration(ptr+"/retry/"+strconv.Itoa(i), "retry delay")
			if err != nil {
				return d, err
			}
			d.Delays = append(d.Delays, dd)
		}
	}
	var err error
	if _, ok := m["answer-timeout"]; ok {
		d.AnswerTimeout, err = l.duration(ptr+"/answer-timeout", "answer-timeout")
	}
	return d, err
}

// answer reads the expect key of a send or redeliver step (nil when
// absent): a status, or {status, within, attempts}.
func (l *loader) answer(ptr string) (*Answer, error) {
	v, ok := l.get(ptr)
	if !ok {
		return nil, nil
	}
	a := &Answer{Pos: l.at(ptr)}
	m, isMap := v.(map[string]any)
	if !isMap {
		a.Status = str(v)
		return a, nil
	}
	a.Status = str(m["status"])
	if n, ok := m["attempts"]; ok {
		a.Attempts = integer(n)
	}
	var err error
	if _, ok := m["within"]; ok {
		a.Within, err = l.duration(ptr+"/within", "within")
	}
	return a, err
}

func (l *loader) redeliver(ptr string, m map[string]any) (*Redeliver, error) {
	rd := &Redeliver{Step: str(m["redeliver"])}
	id, ok := l.ids[rd.Step]
	switch {
	case !ok:
		var known []string
		for name, id := range l.ids {
			if id.defined {
				known = append(known, name)
			}
		}
		slices.Sort(known)
		list := "none so far"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		return nil, l.errf(ptr+"/redeliver", "redeliver %q: no send step has this id (earlier ids: %s)", rd.Step, list)
	case !id.defined:
		return nil, l.errf(ptr+"/redeliver", "redeliver %q: the step comes later (line %d); redeliver an earlier send step", rd.Step, id.pos.Line)
	}
	if r, ok := m["restamp"]; ok {
		if rd.Restamp = r.(bool); rd.Restamp && id.raw {
			return nil, l.keyErrf(ptr+"/restamp", "restamp: step %q sends a raw body, which has no timestamp to renew", rd.Step)
		}
	}
	for _, k := range deliveryKs {
		if _, has := m[k]; has {
			d, err := l.delivery(ptr, m)
			if err != nil {
				return nil, err
			}
			rd.Delivery = &d
			break
		}
	}
	var err error
	rd.Expect, err = l.answer(ptr + "/expect")
	return rd, err
}

// parallel reads the steps played at once: a sequence, or {count: N,
// send|redeliver: ...} for N copies of one step.
func (l *loader) parallel(ptr string) ([]Step, error) {
	if m, ok := yamldoc.Lookup(l.d.Value, ptr).(map[string]any); ok {
		one, err := l.step(ptr, true)
		if err != nil {
			return nil, err
		}
		out := make([]Step, integer(m["count"]))
		for i := range out {
			out[i] = one
		}
		return out, nil
	}
	var out []Step
	for i := range yamldoc.Lookup(l.d.Value, ptr).([]any) {
		st, err := l.step(ptr+"/"+strconv.Itoa(i), true)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// The vendor-state keys of each product.
var (
	kyxStateKeys    = []string{"decision", "risk-score", "label", "capabilities"}
	sumsubStateKeys = []string{"review-status", "review-answer", "reject-labels", "reject-type"}
)

func (l *loader) vendorState(ptr string) (*VendorState, error) {
	m, _ := yamldoc.Lookup(l.d.Value, ptr).(map[string]any)
	var other []string
	var otherProduct, needs string
	switch l.p.Name {
	case "jumio-kyx":
		other, otherProduct, needs = sumsubStateKeys, "sumsub", "decision"
	case "sumsub":
		other, otherProduct, needs = kyxStateKeys, "jumio-kyx", "review-status"
	default:
		return nil, l.errf(ptr, "vendor-state applies to jumio-kyx and sumsub, not %s (its callbacks carry the result)", l.p.Name)
	}
	for _, k := range l.d.Keys(ptr) {
		if slices.Contains(other, k) {
			return nil, l.keyErrf(ptr+"/"+k, "vendor-state: %s applies to %s, not %s", k, otherProduct, l.p.Name)
		}
	}
	if _, ok := m[needs]; !ok && needs == "decision" {
		return nil, l.errf(ptr, "vendor-state: jumio-kyx needs a decision (PASSED, REJECTED, WARNING, NOT_EXECUTED)")
	} else if !ok {
		return nil, l.errf(ptr, "vendor-state: sumsub needs a review-status")
	}
	vs := &VendorState{Subject: str(m["subject"]), Decision: str(m["decision"]), Label: str(m["label"]),
		ReviewStatus: str(m["review-status"]), ReviewAnswer: str(m["review-answer"]), RejectType: str(m["reject-type"])}
	if _, ok := m["subject"]; ok {
		if err := l.expandable(ptr+"/subject", vs.Subject, "subject"); err != nil {
			return nil, err
		}
	}
	if r, ok := m["risk-score"]; ok {
		vs.RiskScore = new(int)
		*vs.RiskScore = integer(r)
	}
	if err := l.literal(l.at(ptr+"/label"), vs.Label, "label"); err != nil {
		return nil, err
	}
	if c, ok := m["capabilities"].(map[string]any); ok {
		vs.Capability = c
	}
	var err error
	vs.RejectLabels, err = l.labels(ptr + "/reject-labels")
	return vs, err
}

// effects reads an expect step.
func (l *loader) effects(ptr string) (*Effects, error) {
	m := yamldoc.Lookup(l.d.Value, ptr).(map[string]any)
	e := &Effects{Pos: l.at(ptr), Subject: str(m["subject"])}
	if v, ok := m["not-status"]; ok {
		s := str(v)
		e.NotStatus = &s
	}
	if _, ok := m["subject"]; ok {
		if err := l.expandable(ptr+"/subject", e.Subject, "subject"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["events"]; ok {
		n := integer(v)
		e.Events = &n
	}
	if v, ok := m["status"]; ok {
		s := "null"
		if v != nil {
			if s = str(v); strings.TrimSpace(s) == "" {
				return nil, l.errf(ptr+"/status", "status (a string, or null for an unknown subject) is empty")
			}
			if err := l.expandable(ptr+"/status", s, "status"); err != nil {
				return nil, err
			}
		}
		e.Status = &s
	}
	if v, ok := m["fetches"]; ok {
		n := integer(v)
		e.Fetches = &n
	}
	var err error
	if _, ok := m["within"]; ok {
		e.Within, err = l.duration(ptr+"/within", "within")
	}
	return e, err
}
