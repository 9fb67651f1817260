package event

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
)

// setCase is one change to a freshly built event and what must follow.
type setCase struct {
	name             string
	product, message string
	op               string // set, unset or raw
	path, value      string
	wantErr          string            // a part of the error; "" for none
	get              map[string]string // path -> JSON text of the value there
	absent           []string          // paths with nothing there
	field            map[string]string // form field -> text sent
	contains         string            // a part of the body
	subject          *string
}

func strp(s string) *string { return &s }

// setEvent builds the event a setCase starts from: fixed seed and time,
// fixed subject, and fixed reject code / labels so indexes are known.
func setEvent(t *testing.T, product, message string) *Event {
	t.Helper()
	opt := Options{Rand: rand.New(rand.NewPCG(5, 5)), Now: fixedNow}
	switch product {
	case "sumsub":
		opt.Subject = "5cb744200a975a67ed1798a4"
		if message == "applicantReviewed" {
			opt.ReviewAnswer, opt.RejectLabels = "RED", []string{"FORGERY"}
		}
	case "jumio-netverify":
		opt.Subject = "netverify-ref-1"
		if message == "DENIED_FRAUD" {
			opt.RejectCode = "100"
		}
	case "jumio-auth":
		opt.Subject = "auth-ref-1"
	}
	e, err := Build(testCatalog(t), product, message, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var setCases = []setCase{
	// JSON product.
	{name: "string", product: "sumsub", message: "applicantReviewed", op: "set", path: "externalUserId", value: "abc",
		get: map[string]string{"externalUserId": `"abc"`}},
	{name: "number", product: "sumsub", message: "applicantReviewed", op: "set", path: "externalUserId", value: "12672",
		get: map[string]string{"externalUserId": `12672`}},
	{name: "quoted string", product: "sumsub", message: "applicantReviewed", op: "set", path: "externalUserId", value: `"12672"`,
		get: map[string]string{"externalUserId": `"12672"`}},
	{name: "empty string", product: "sumsub", message: "applicantReviewed", op: "set", path: "externalUserId", value: "",
		get: map[string]string{"externalUserId": `""`}},
	{name: "not quite JSON", product: "sumsub", message: "applicantReviewed", op: "set", path: "externalUserId", value: `{"a":}`,
		get: map[string]string{"externalUserId": `"{\"a\":}"`}},
	{name: "boolean", product: "sumsub", message: "applicantReviewed", op: "set", path: "sandboxMode", value: "true",
		contains: `"type":"applicantReviewed","sandboxMode":true,"reviewResult"`, get: map[string]string{"sandboxMode": `true`}},
	{name: "null", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult", value: "null",
		contains: `"reviewResult":null,"reviewStatus"`},
	{name: "object keeps its order and place", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult", value: `{"z":1,"a":{"y":2,"b":3}}`,
		contains: `"sandboxMode":false,"reviewResult":{"z":1,"a":{"y":2,"b":3}},"reviewStatus":"completed"`},
	{name: "number text kept", product: "sumsub", message: "applicantReviewed", op: "set", path: "x", value: `1.50e+3`,
		contains: `"x":1.50e+3}`},
	{name: "array element", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.0", value: "SPAM",
		get: map[string]string{"reviewResult.rejectLabels": `["SPAM"]`}},
	{name: "append at length", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.1", value: "SPAM",
		get: map[string]string{"/reviewResult/rejectLabels": `["FORGERY","SPAM"]`}},
	{name: "append with dash", product: "sumsub", message: "applicantReviewed", op: "set", path: "/reviewResult/rejectLabels/-", value: "SPAM",
		get: map[string]string{"reviewResult.rejectLabels": `["FORGERY","SPAM"]`}},
	{name: "append object through index", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.1.code", value: "7",
		get: map[string]string{"reviewResult.rejectLabels": `["FORGERY",{"code":7}]`}},
	{name: "creates objects", product: "sumsub", message: "applicantReviewed", op: "set", path: "a.b.0", value: "1",
		contains: `"clientId":"kycsim-client","a":{"b":{"0":1}}}`},
	{name: "pointer escapes", product: "sumsub", message: "applicantReviewed", op: "set", path: "/we~1ird~0key", value: "v",
		contains: `"we/ird~key":"v"`, get: map[string]string{"/we~1ird~0key": `"v"`}},
	{name: "dotted takes slash and tilde literally", product: "sumsub", message: "applicantReviewed", op: "set", path: "a/b~0", value: "v",
		get: map[string]string{"/a~1b~00": `"v"`}},
	{name: "subject follows", product: "sumsub", message: "applicantReviewed", op: "set", path: "applicantId", value: "abc",
		subject: strp("abc")},
	{name: "HTML not escaped", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.clientComment", value: `"<b>&'"`,
		contains: `"clientComment":"<b>&'"`},

	{name: "index out of range", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.2", value: "SPAM",
		wantErr: "out of range"},
	{name: "index not a number", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.x", value: "SPAM",
		wantErr: "not an array index"},
	{name: "index leading zero", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.00", value: "SPAM",
		wantErr: "not an array index"},
	{name: "index negative", product: "sumsub", message: "applicantReviewed", op: "set", path: "/reviewResult/rejectLabels/-1", value: "SPAM",
		wantErr: "not an array index"},
	{name: "through a string", product: "sumsub", message: "applicantReviewed", op: "set", path: "type.x", value: "1",
		wantErr: "/type is a string, not an object or array"},
	{name: "through a string in an array", product: "sumsub", message: "applicantReviewed", op: "set", path: "reviewResult.rejectLabels.0.x", value: "1",
		wantErr: "/reviewResult/rejectLabels/0 is a string"},
	{name: "bad escape", product: "sumsub", message: "applicantReviewed", op: "set", path: "/a~2", value: "1",
		wantErr: "bad escape"},
	{name: "trailing tilde", product: "sumsub", message: "applicantReviewed", op: "set", path: "/a~", value: "1",
		wantErr: "ends in '~'"},
	{name: "empty token", product: "sumsub", message: "applicantReviewed", op: "set", path: "a..b", value: "1",
		wantErr: "token 2 is empty"},
	{name: "empty path", product: "sumsub", message: "applicantReviewed", op: "set", path: "", value: "1",
		wantErr: "path is empty"},
	{name: "value not UTF-8", product: "sumsub", message: "applicantReviewed", op: "set", path: "x", value: "\xff",
		wantErr: "not valid UTF-8"},

	{name: "unset member", product: "sumsub", message: "applicantReviewed", op: "unset", path: "reviewResult.reviewRejectType",
		absent: []string{"reviewResult.reviewRejectType"}, get: map[string]string{"reviewResult.reviewAnswer": `"RED"`}},
	{name: "unset element", product: "sumsub", message: "applicantReviewed", op: "unset", path: "/reviewResult/rejectLabels/0",
		get: map[string]string{"reviewResult.rejectLabels": `[]`}},
	{name: "unset subject", product: "sumsub", message: "applicantReviewed", op: "unset", path: "applicantId",
		subject: strp(""), absent: []string{"applicantId"}},
	{name: "unset missing", product: "sumsub", message: "applicantReviewed", op: "unset", path: "reviewResult.nope",
		wantErr: "nothing at /reviewResult/nope"},
	{name: "unset missing parent", product: "sumsub", message: "applicantReviewed", op: "unset", path: "nope.deeper",
		wantErr: "nothing at /nope"},
	{name: "unset past the end", product: "sumsub", message: "applicantReviewed", op: "unset", path: "reviewResult.rejectLabels.1",
		wantErr: "out of range"},
	{name: "unset dash", product: "sumsub", message: "applicantReviewed", op: "unset", path: "reviewResult.rejectLabels.-",
		wantErr: "out of range"},
	{name: "unset through a string", product: "sumsub", message: "applicantReviewed", op: "unset", path: "type.x",
		wantErr: "/type is a string"},
	{name: "raw on JSON", product: "sumsub", message: "applicantReviewed", op: "raw", path: "type", value: "x",
		wantErr: "raw form text applies to form products"},

	// Form products.
	{name: "form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idNumber", value: "X 123&4",
		field: map[string]string{"idNumber": "X 123&4"}},
	{name: "form field number", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idNumber", value: "1234",
		field: map[string]string{"idNumber": "1234"}},
	{name: "form field quoted", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idNumber", value: `"1234"`,
		field: map[string]string{"idNumber": "1234"}},
	{name: "form field object", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idNumber", value: `{"b":1,"a":2}`,
		field: map[string]string{"idNumber": `{"b":1,"a":2}`}},
	{name: "form subject", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "jumioIdScanReference", value: "other",
		subject: strp("other")},
	{name: "JSON-in-form member", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "rejectReason.rejectReasonCode", value: `"105"`,
		get: map[string]string{"rejectReason.rejectReasonCode": `"105"`, "rejectReason.rejectReasonDescription": `"MANIPULATED_DOCUMENT"`}},
	{name: "JSON-in-form pointer", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "/rejectReason/rejectReasonDetails/0/detailsCode", value: `"1002"`,
		get: map[string]string{"rejectReason.rejectReasonDetails.0.detailsCode": `"1002"`}},
	{name: "JSON-in-form created", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "identityVerification.validity", value: "true",
		field: map[string]string{"identityVerification": `{"validity":true}`}},
	{name: "JSON-in-form plain string", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "rejectReason", value: "garbage",
		field: map[string]string{"rejectReason": `"garbage"`}},
	{name: "JSON-in-form whole", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "rejectReason", value: `{"rejectReasonCode":"106"}`,
		field: map[string]string{"rejectReason": `{"rejectReasonCode":"106"}`}},
	{name: "inside a plain form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idType.x", value: "1",
		wantErr: "form field idType is not a JSON-in-form field"},
	{name: "inside an absent plain form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "set", path: "idFirstName.x", value: "1",
		wantErr: "form field idFirstName is not a JSON-in-form field"},
	{name: "unset form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "unset", path: "rejectReason",
		absent: []string{"rejectReason"}},
	{name: "unset in JSON-in-form", product: "jumio-netverify", message: "DENIED_FRAUD", op: "unset", path: "rejectReason.rejectReasonDetails",
		field: map[string]string{"rejectReason": `{"rejectReasonCode":"100","rejectReasonDescription":"MANIPULATED_DOCUMENT"}`}},
	{name: "unset inside a plain form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "unset", path: "idType.x",
		wantErr: "not a JSON-in-form field"},
	{name: "unset inside an absent plain form field", product: "jumio-netverify", message: "DENIED_FRAUD", op: "unset", path: "idFirstName.x",
		wantErr: "nothing at form field idFirstName"},
	{name: "raw JSON-in-form", product: "jumio-auth", message: "PASSED", op: "raw", path: "idScanImageFace", value: "http://127.0.0.1:8089/face",
		field: map[string]string{"idScanImageFace": "http://127.0.0.1:8089/face"}},
	{name: "raw broken JSON", product: "jumio-auth", message: "PASSED", op: "raw", path: "livenessImages", value: `["http://x`,
		field: map[string]string{"livenessImages": `["http://x`}},
	{name: "raw empty field name", product: "jumio-auth", message: "PASSED", op: "raw", path: "", value: "x",
		wantErr: "form field name is empty"},
	{name: "raw subject", product: "jumio-auth", message: "PASSED", op: "raw", path: "transactionReference", value: "raw-ref",
		subject: strp("raw-ref")},
}

func TestSetUnset(t *testing.T) {
	for _, tc := range setCases {
		t.Run(tc.name, func(t *testing.T) {
			e := setEvent(t, tc.product, tc.message)
			before := e.Body()
			subjectBefore := e.Subject
			var err error
			switch tc.op {
			case "set":
				err = e.Set(tc.path, tc.value)
			case "unset":
				err = e.Unset(tc.path)
			case "raw":
				err = e.SetRaw(tc.path, tc.value)
			default:
				t.Fatalf("bad op %q", tc.op)
			}
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("%s %q: no error, want one containing %q; body %s", tc.op, tc.path, tc.wantErr, e.Body())
				}
				if !strings.Contains(err.Error(), tc.wantErr) || (tc.op != "raw" && !strings.Contains(err.Error(), tc.path)) {
					t.Errorf("error %q does not name the path %q and say %q", err, tc.path, tc.wantErr)
				}
				if after := e.Body(); !bytes.Equal(before, after) || e.Subject != subjectBefore {
					t.Errorf("a failed %s changed the event:\n%s\n%s", tc.op, before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s %q: %v", tc.op, tc.path, err)
			}
			body := e.Body()
			for path, want := range tc.get {
				v, err := e.Get(path)
				if err != nil {
					t.Errorf("get %s: %v", path, err)
					continue
				}
				if got := string(safeJSON(v)); got != want {
					t.Errorf("at %s: %s, want %s", path, got, want)
				}
			}
			for _, path := range tc.absent {
				if v, err := e.Get(path); err == nil {
					t.Errorf("at %s: %v, want nothing", path, v)
				}
			}
			if tc.contains != "" && !bytes.Contains(body, []byte(tc.contains)) {
				t.Errorf("body lacks %s:\n%s", tc.contains, body)
			}
			if len(tc.field) > 0 || e.Encoding == spec.EncodingForm {
				fb, err := form.Parse(body)
				if err != nil {
					t.Fatalf("body is not a form: %v", err)
				}
				for name, want := range tc.field {
					if got, _ := fb.Get(name); got != want {
						t.Errorf("form field %s is %q, want %q", name, got, want)
					}
				}
				for _, name := range tc.absent {
					if _, ok := fb.Get(name); ok {
						t.Errorf("form field %s was sent", name)
					}
				}
			}
			if tc.subject != nil && e.Subject != *tc.subject {
				t.Errorf("Subject %q, want %q", e.Subject, *tc.subject)
			}
		})
	}
}

// TestSetValue covers the Go-value entry point: values outside the JSON
// model and cycles are refused.
func TestSetValue(t *testing.T) {
	e := setEvent(t, "sumsub", "applicantCreated")
	before := e.Body()
	for _, bad := range []any{make(chan int), struct{}{}, []string{"a"}, 1.0 / zero(), (*Object)(nil), e.Root} {
		if err := e.SetValue("x", bad); err == nil {
			t.Errorf("SetValue(%T) was accepted", bad)
		}
	}
	if !bytes.Equal(before, e.Body()) {
		t.Errorf("refused values changed the event")
	}
	inner := NewObject()
	if err := e.SetValue("x", inner); err != nil {
		t.Fatal(err)
	}
	if err := inner.Set("loop", e.Root); err == nil {
		t.Errorf("an object containing the root was accepted inside the root")
	}
	if err := e.SetValue("n", []any{1, int64(2), 2.5, true, nil, FormText("t")}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(e.Body(), []byte(`"x":{},"n":[1,2,2.5,true,null,"t"]}`)) {
		t.Errorf("body %s", e.Body())
	}
}

func zero() float64 { return 0 }

// TestClone checks that a clone changes apart from its original.
func TestClone(t *testing.T) {
	e := setEvent(t, "jumio-netverify", "DENIED_FRAUD")
	before := e.Body()
	c := e.Clone()
	if err := c.Set("rejectReason.rejectReasonDetails.0.detailsCode", `"1002"`); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("jumioIdScanReference", "clone"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, e.Body()) || e.Subject == "clone" {
		t.Errorf("changing the clone changed the original")
	}
	if c.Subject != "clone" || bytes.Equal(before, c.Body()) {
		t.Errorf("the clone did not change")
	}
}
