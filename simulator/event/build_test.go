package event

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
	"github.com/kycsim/kycsim/spec/format"
)

func testCatalog(t testing.TB) *spec.Catalog {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// fixedNow is the event time of deterministic tests.
var fixedNow = time.Date(2026, 5, 30, 12, 0, 0, 987654321, time.UTC)

// variant is one set of options a product's events are built with.
type variant struct {
	name string
	opt  Options
}

// variants lists the option values every message of a product must build
// valid events with.
func variants(product, message string) []variant {
	var vs []variant
	for _, form := range []string{"", FormReal, FormTable} {
		vs = append(vs, variant{fmt.Sprintf("form=%q", form), Options{Form: form}})
	}
	if product == "sumsub" {
		for _, mode := range []string{"", SandboxModeBool, SandboxModeString} {
			for _, on := range []bool{false, true} {
				vs = append(vs, variant{fmt.Sprintf("sandboxMode=%q,sandbox=%v", mode, on), Options{SandboxMode: mode, Sandbox: on}})
			}
		}
		vs = append(vs,
			variant{"nulls", Options{Nulls: true}},
			variant{"nulls,table,string", Options{Nulls: true, Form: FormTable, SandboxMode: SandboxModeString}},
			variant{"table,string", Options{Form: FormTable, SandboxMode: SandboxModeString, Sandbox: true}},
		)
		if sumsubHasResult(message) {
			vs = append(vs,
				variant{"GREEN", Options{ReviewAnswer: "GREEN"}},
				variant{"RED", Options{ReviewAnswer: "RED"}},
				variant{"RED-RETRY", Options{ReviewAnswer: "RED", ReviewRejectType: "RETRY", SandboxMode: SandboxModeBool}},
				variant{"RED-labels", Options{ReviewAnswer: "RED", RejectLabels: []string{"SPAM", "FORGERY"}}},
				variant{"RED-table", Options{ReviewAnswer: "RED", Form: FormTable}},
			)
		}
		return vs
	}
	vs = append(vs, variant{"precision=nil", Options{}}, variant{"precision=-1", Options{Precision: Digits(-1)}})
	for d := 0; d <= 3; d++ {
		vs = append(vs, variant{fmt.Sprintf("precision=%d", d), Options{Precision: Digits(d)}})
	}
	vs = append(vs, variant{"precision=0,table", Options{Precision: Digits(0), Form: FormTable}})
	if product == "jumio-netverify" {
		for _, code := range netverifyStatuses[message] {
			vs = append(vs,
				variant{"code=" + code, Options{RejectCode: code, Precision: Digits(1)}},
				variant{"code=" + code + ",table", Options{RejectCode: code, Form: FormTable}})
		}
	}
	return vs
}

func sumsubHasResult(message string) bool {
	return slices.Contains(sumsubShapes[message].keys, "reviewResult")
}

// strictForm reports whether options build an event meant to pass level
// strict: the table form without explicit nulls.
func strictForm(opt Options) bool { return opt.Form == FormTable && !opt.Nulls }

// violationKeys renders violations as "place rule".
func violationKeys(vs []spec.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Place()+" "+v.Rule)
	}
	return out
}

func describe(vs []spec.Violation) string {
	var sb strings.Builder
	for _, v := range vs {
		sb.WriteString("\n\t" + v.String())
	}
	return sb.String()
}

// TestBuildValid builds every message of every product with every option
// value and several seeds, and checks the body against the catalog: at
// level vendor (message detected) always, and at level strict (message
// given) in the table form.
func TestBuildValid(t *testing.T) {
	cat := testCatalog(t)
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			for _, v := range variants(p.Name, m) {
				for seed := uint64(1); seed <= 6; seed++ {
					name := fmt.Sprintf("%s/%s/%s/seed=%d", p.Name, m, v.name, seed)
					opt := v.opt
					opt.Rand = rand.New(rand.NewPCG(seed, 7))
					opt.Now = fixedNow.Add(time.Duration(seed) * 7919 * time.Millisecond)
					if seed%2 == 0 {
						opt.VendorBase = "https://sandbox.example.test:9443/vendor/"
					}
					t.Run(name, func(t *testing.T) {
						e, err := Build(cat, p.Name, m, opt)
						if err != nil {
							t.Fatal(err)
						}
						checkEvent(t, p, m, e, opt)
					})
				}
			}
		}
	}
}

// checkEvent checks one built event against the catalog and the rules the
// catalog cannot express.
func checkEvent(t *testing.T, p *spec.Product, message string, e *Event, opt Options) {
	t.Helper()
	body := e.Body()
	if e.Product != p.Name || e.Message != message || e.Encoding != p.Encoding || e.ContentType != p.ContentType {
		t.Errorf("event names %s/%s %s %s, want %s/%s %s %s", e.Product, e.Message, e.Encoding, e.ContentType, p.Name, message, p.Encoding, p.ContentType)
	}

	// Level strict, message given, for the table form. The Sumsub table
	// types sandboxMode as a Boolean, while the vendor's own examples send
	// the string; that one violation is expected of the string form.
	if strictForm(opt) {
		res, err := p.Validate(body, spec.Options{Level: spec.LevelStrict, Message: message})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if sm, ok := e.Root.Get("sandboxMode"); ok {
			if _, isString := sm.(string); isString {
				want = []string{"/sandboxMode type"}
			}
		}
		if got := violationKeys(res.Violations); !slices.Equal(got, want) {
			t.Errorf("level strict: violations %q, want %q:%s\nbody: %s", got, want, describe(res.Violations), body)
		}
	}

	// Level vendor, message detected: every form, option and variant.
	checkVendor(t, p, message, body)
	// Without departures from the documents, no warnings either.
	if strictForm(opt) && opt.SandboxMode != SandboxModeString {
		res, err := p.Validate(body, spec.Options{Level: spec.LevelVendor})
		if err != nil {
			t.Fatal(err)
		}
		// A type beyond the source document is always told apart.
		warnings := slices.DeleteFunc(slices.Clone(res.Warnings), func(w string) bool { return strings.Contains(w, "is not in the source document") })
		if len(warnings) > 0 {
			t.Errorf("level vendor: warnings %q\nbody: %s", warnings, body)
		}
	}

	decoded := decodeBody(t, e, body)
	checkSubject(t, e, decoded)
	checkURLsBase(t, decoded, opt.VendorBase)
	checkPrecision(t, p.Name, decoded, opt.Precision)
	switch p.Name {
	case "jumio-kyx":
		checkKYX(t, decoded)
	case "jumio-netverify":
		checkNetverify(t, message, decoded, opt)
	case "sumsub":
		checkSumsub(t, message, decoded, opt)
	}
}

// checkVendor checks that a body passes level vendor as the message.
func checkVendor(t *testing.T, p *spec.Product, message string, body []byte) {
	t.Helper()
	res, err := p.Validate(body, spec.Options{Level: spec.LevelVendor})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message != message {
		t.Errorf("level vendor: detected message %q, want %q\nbody: %s", res.Message, message, body)
	}
	if !res.Valid() {
		t.Errorf("level vendor: invalid:%s\nbody: %s", describe(res.Violations), body)
	}
}

// decodeBody decodes a body the way a receiver would: JSON, or form fields
// with the JSON-in-form fields parsed.
func decodeBody(t *testing.T, e *Event, body []byte) map[string]any {
	t.Helper()
	if e.Encoding == spec.EncodingJSON {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body is not a JSON object: %v\n%s", err, body)
		}
		return m
	}
	fb, err := form.Parse(body)
	if err != nil {
		t.Fatalf("body is not a form: %v\n%s", err, body)
	}
	m := map[string]any{}
	for _, f := range fb.Fields {
		held, _ := e.Root.Get(f.Name)
		if _, raw := held.(FormText); raw || !e.jsonFields[f.Name] {
			m[f.Name] = f.Value
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(f.Value), &v); err != nil {
			t.Fatalf("JSON-in-form field %s is not JSON: %v\n%s", f.Name, err, f.Value)
		}
		m[f.Name] = v
	}
	return m
}

func lookup(m any, path ...string) any {
	for _, k := range path {
		o, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = o[k]
	}
	return m
}

func checkSubject(t *testing.T, e *Event, decoded map[string]any) {
	t.Helper()
	if e.variants["sumsub.applicantId"] == "absent" {
		if e.Subject != "" || decoded["applicantId"] != nil {
			t.Errorf("Subject %q, applicantId %v; want none", e.Subject, decoded["applicantId"])
		}
		return
	}
	got, _ := lookup(decoded, e.subjectPath...).(string)
	if e.Subject == "" || got != e.Subject {
		t.Errorf("Subject %q, payload has %q at %s", e.Subject, got, FormatPointer(e.subjectPath))
	}
}

// checkURLsBase checks that every URL of the payload points at the vendor
// base.
func checkURLsBase(t *testing.T, decoded map[string]any, base string) {
	t.Helper()
	if base == "" {
		base = DefaultVendorBase
	}
	base = strings.TrimRight(base, "/") + "/"
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if strings.HasPrefix(v, "http") && !strings.HasPrefix(v, base) {
				t.Errorf("URL %s does not start with the vendor base %s", v, base)
			}
		}
	}
	walk(decoded)
}

// jumioTimestamps lists where each Jumio product carries timestamps.
var jumioTimestamps = map[string][][]string{
	"jumio-kyx":       {{"callbackSentAt"}},
	"jumio-netverify": {{"transactionDate"}, {"callbackDate"}},
	"jumio-auth":      {{"transactionDate"}, {"callbackDate"}},
	"jumio-docverify": {{"timestamp"}, {"transaction", "date"}},
}

func checkPrecision(t *testing.T, product string, decoded map[string]any, precision *int) {
	t.Helper()
	want := DefaultPrecision
	if precision != nil && *precision >= 0 {
		want = *precision
	}
	for _, path := range jumioTimestamps[product] {
		s, _ := lookup(decoded, path...).(string)
		_, digits, err := format.ParseJumioTimestamp(s)
		if err != nil || digits != want {
			t.Errorf("%s = %q: %d millisecond digits (err %v), want %d", strings.Join(path, "."), s, digits, err, want)
		}
	}
}

func checkKYX(t *testing.T, decoded map[string]any) {
	t.Helper()
	id, _ := lookup(decoded, "workflowExecution", "id").(string)
	account, _ := lookup(decoded, "account", "id").(string)
	href, _ := lookup(decoded, "workflowExecution", "href").(string)
	accountHref, _ := lookup(decoded, "account", "href").(string)
	if !strings.HasSuffix(href, "/api/v1/accounts/"+account+"/workflow-executions/"+id) {
		t.Errorf("workflowExecution.href %s does not name account %s and execution %s", href, account, id)
	}
	if accountHref+"/workflow-executions/"+id != href {
		t.Errorf("account.href %s is not the prefix of %s", accountHref, href)
	}
	for _, u := range []string{id, account} {
		if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Errorf("%s is not a version 4 UUID", u)
		}
	}
}

func checkNetverify(t *testing.T, status string, decoded map[string]any, opt Options) {
	t.Helper()
	code, _ := lookup(decoded, "rejectReason", "rejectReasonCode").(string)
	if opt.RejectCode != "" && code != opt.RejectCode {
		t.Errorf("rejectReasonCode %q, want the option's %q", code, opt.RejectCode)
	}
	details, hasDetails := lookup(decoded, "rejectReason", "rejectReasonDetails").([]any)
	if (len(details) > 0) != (code == "100" || code == "200") {
		t.Errorf("rejectReasonDetails %v with code %s", details, code)
	}
	if hasDetails && len(details) == 0 && opt.Form == FormTable {
		t.Errorf("rejectReasonDetails [] in the table form")
	}
	iv, _ := lookup(decoded, "identityVerification", "validity").(any)
	if approved := status == "APPROVED_VERIFIED"; approved && opt.Form == FormTable && iv != "TRUE" || approved && opt.Form != FormTable && iv != true {
		t.Errorf("identityVerification.validity %#v in form %q", iv, opt.Form)
	}
	if code == "206" && decoded["idScanImageBackside"] != nil {
		t.Errorf("MISSING_BACK with a back side image")
	}
	if src := decoded["idScanSource"]; code == "103" && src != "WEB_CAM" {
		t.Errorf("PHOTOCOPY_COLOR from idScanSource %v", src)
	}
	approved := status == "APPROVED_VERIFIED"
	for _, f := range []string{"idFirstName", "idLastName", "idDob", "idNumber", "identityVerification", "idScanImageFace"} {
		if _, ok := decoded[f]; ok != approved {
			t.Errorf("%s present %v with %s", f, ok, status)
		}
	}
}

func checkSumsub(t *testing.T, message string, decoded map[string]any, opt Options) {
	t.Helper()
	sm, has := decoded["sandboxMode"]
	var want any = opt.Sandbox
	if opt.SandboxMode == SandboxModeString {
		want = fmt.Sprint(opt.Sandbox)
	}
	if !has || sm != want {
		t.Errorf("sandboxMode %#v (present %v), want %#v", sm, has, want)
	}
	shape := sumsubShapes[message]
	for _, k := range []string{"applicantType", "createdAt", "clientId", "correlationId"} {
		if _, ok := decoded[k]; !ok {
			t.Errorf("no %s: real deliveries carry it", k)
		}
	}
	if c, _ := decoded["correlationId"].(string); !(len(c) == 32 && strings.Trim(c, "0123456789abcdef") == "" || strings.HasPrefix(c, "req-") && len(c) == 40) {
		t.Errorf("correlationId %q is neither 32 hex digits nor req-<uuid>", c)
	}
	for _, k := range sumsubNullable {
		v, ok := decoded[k]
		if opt.Nulls && !ok {
			t.Errorf("nulls: no %s", k)
		}
		if !opt.Nulls && ok && v == nil {
			t.Errorf("%s: null without Nulls", k)
		}
	}
	_, hasInspection := decoded["inspectionId"]
	_, hasLevel := decoded["levelName"]
	if wantEnvelope := !shape.kyt || opt.Form == FormTable; hasInspection != wantEnvelope || hasLevel != wantEnvelope {
		t.Errorf("inspectionId present %v, levelName present %v; want %v", hasInspection, hasLevel, wantEnvelope)
	}
	for _, id := range []string{"applicantId", "inspectionId"} {
		if _, ok := decoded[id]; !ok {
			continue
		}
		s, _ := decoded[id].(string)
		if len(s) != 24 || strings.Trim(s, "0123456789abcdef") != "" {
			t.Errorf("%s %q is not 24 hexadecimal digits", id, s)
		}
	}
	answer, _ := lookup(decoded, "reviewResult", "reviewAnswer").(string)
	if sumsubHasResult(message) {
		want := cmp.Or(opt.ReviewAnswer, shape.answer, "GREEN")
		if answer != want {
			t.Errorf("reviewAnswer %q, want %q", answer, want)
		}
	} else if rr, ok := decoded["reviewResult"]; ok && (rr != nil || !opt.Nulls) {
		t.Errorf("reviewResult %v in %s, whose example has none", rr, message)
	}
	if answer == "RED" {
		labels, _ := lookup(decoded, "reviewResult", "rejectLabels").([]any)
		rt, _ := lookup(decoded, "reviewResult", "reviewRejectType").(string)
		if len(labels) == 0 || rt == "" {
			t.Errorf("RED review without rejectLabels (%v) or reviewRejectType (%q)", labels, rt)
		}
		if opt.ReviewRejectType != "" && rt != opt.ReviewRejectType {
			t.Errorf("reviewRejectType %q, want %q", rt, opt.ReviewRejectType)
		}
		if len(opt.RejectLabels) > 0 && fmt.Sprint(labels) != fmt.Sprint(opt.RejectLabels) {
			t.Errorf("rejectLabels %v, want %v", labels, opt.RejectLabels)
		}
	}
}

// TestBuildFormRoundTrip checks that a form body survives the form parser
// with values that need escaping.
func TestBuildFormRoundTrip(t *testing.T) {
	cat := testCatalog(t)
	e, err := Build(cat, "jumio-netverify", "APPROVED_VERIFIED", Options{Rand: rand.New(rand.NewPCG(1, 1)), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Set("idFirstName", "ANNA MARIA & CO=+%"); err != nil {
		t.Fatal(err)
	}
	fb, err := form.Parse(e.Body())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := fb.Get("idFirstName")
	if got != "ANNA MARIA & CO=+%" {
		t.Errorf("idFirstName came back as %q", got)
	}
	if q, err := url.ParseQuery(string(e.Body())); err != nil || q.Get("callBackType") != "NETVERIFYID" {
		t.Errorf("net/url reads the body as %v, %v", q, err)
	}
}
