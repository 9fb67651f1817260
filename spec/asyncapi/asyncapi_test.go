package asyncapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// readFile reads a file under testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustLoad loads a file under testdata and fails the test if it does not load.
func mustLoad(t testing.TB, name string) *Document {
	t.Helper()
	d, err := Load(name, readFile(t, name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return d
}

// loadString loads a document given as text and fails the test on error.
func loadString(t testing.TB, src string) *Document {
	t.Helper()
	d, err := Load("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, src)
	}
	return d
}

// checkGolden compares got with the golden file testdata/name, or rewrites
// it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update to rewrite it)\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}

// jsonValue decodes JSON text the way Raw holds values (numbers as
// json.Number).
func jsonValue(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("json: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// summary renders everything Load derives from a document (not Raw) as
// text, for golden comparison.
func summary(t testing.TB, d *Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: %s\n", d.Version)
	fmt.Fprintf(&b, "title: %s\n", d.Title)
	fmt.Fprintf(&b, "description: %q\n", d.Description)
	fmt.Fprintf(&b, "product: %s\n", d.Product)
	fmt.Fprintf(&b, "defaultContentType: %s\n", d.DefaultContentType)
	fmt.Fprintf(&b, "discriminator: %s\n", d.Discriminator)
	for _, s := range d.Servers {
		fmt.Fprintf(&b, "server %s\n", s.Name)
		fmt.Fprintf(&b, "  url: %s\n  protocol: %s\n  description: %q\n", s.URL, s.Protocol, s.Description)
		fmt.Fprintf(&b, "  hostname: %s\n  sourceIPs: %s\n", s.Hostname, strings.Join(s.SourceIPs, " "))
	}
	for _, m := range d.Messages {
		fmt.Fprintf(&b, "message %s\n", m.Name)
		fmt.Fprintf(&b, "  messageName: %s\n  key: %s\n  title: %s\n  summary: %q\n", m.MessageName, m.Key, m.Title, m.Summary)
		fmt.Fprintf(&b, "  contentType: %s\n  channel: %s\n  method: %s\n  payload: %s\n  const: %s\n", m.ContentType, m.Channel, m.Method, m.Payload, m.Const)
		for _, e := range m.Examples {
			fmt.Fprintf(&b, "  example: %s\n", mustJSON(t, e))
		}
	}
	// No trailing blanks where a value is empty, so that editors leave
	// the golden files alone.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

var jumioIPs = map[string][]string{
	"customer-us":   {"34.202.241.227", "34.226.103.119", "34.226.254.127", "52.8.136.236", "54.177.61.57", "54.183.15.212"},
	"customer-eu":   {"34.253.41.236", "35.157.27.193", "52.48.0.25", "52.57.194.92", "52.58.113.86", "52.209.180.134"},
	"customer-apac": {"3.0.109.121", "52.76.184.73", "52.77.102.92", "13.238.100.17", "13.238.203.238", "52.64.132.26"},
}

const processedExample = `{
  "callbackSentAt": "2026-05-30T12:00:00.000Z",
  "userReference": "customer-user-1234",
  "workflowExecution": {
    "id": "22222222-3333-4444-5555-666666666666",
    "href": "https://retrieval.amer-1.jumio.ai/api/v1/accounts/11111111-2222-3333-4444-555555555555/workflow-executions/22222222-3333-4444-5555-666666666666",
    "definitionKey": "10001",
    "status": "PROCESSED"
  },
  "account": {
    "id": "11111111-2222-3333-4444-555555555555",
    "href": "https://retrieval.amer-1.jumio.ai/api/v1/accounts/11111111-2222-3333-4444-555555555555"
  }
}`

func TestRealDocuments(t *testing.T) {
	type wantMsg struct{ name, messageName, key, konst string }
	keys := []string{
		"WorkflowExecutionProcessed",
		"WorkflowExecutionAcquisitionStarted",
		"WorkflowExecutionAcquired",
		"WorkflowExecutionSessionExpired",
		"WorkflowExecutionTokenExpired",
	}
	messageNames := []string{
		"workflowExecutionProcessed",
		"workflowExecutionAcquisitionStarted",
		"workflowExecutionAcquired",
		"workflowExecutionSessionExpired",
		"workflowExecutionTokenExpired",
	}
	statuses := []string{"PROCESSED", "ACQUISITION_STARTED", "ACQUIRED", "SESSION_EXPIRED", "TOKEN_EXPIRED"}
	var jumioMsgs, seedMsgs []wantMsg
	for i := range keys {
		jumioMsgs = append(jumioMsgs, wantMsg{statuses[i], messageNames[i], keys[i], statuses[i]})
		seedMsgs = append(seedMsgs, wantMsg{messageNames[i], messageNames[i], keys[i], ""})
	}
	tests := []struct {
		file, golden  string
		title         string
		product       string
		discriminator string
		hostnames     map[string]string
		ips           map[string][]string
		messages      []wantMsg
	}{
		{
			file:          "jumio-kyx.asyncapi.yaml",
			golden:        "jumio-kyx.summary.golden",
			title:         "Jumio KYX workflow callback",
			product:       "jumio-kyx",
			discriminator: "/workflowExecution/status",
			hostnames: map[string]string{
				"customer-us":   "callback.amer-1.jumio.ai",
				"customer-eu":   "callback.emea-1.jumio.ai",
				"customer-apac": "callback.apac-1.jumio.ai",
			},
			ips:      jumioIPs,
			messages: jumioMsgs,
		},
		{
			file:     "seed-kyx.asyncapi.yaml",
			golden:   "seed-kyx.summary.golden",
			title:    "Jumio KYX Workflow Callback",
			messages: seedMsgs,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := mustLoad(t, tc.file)
			if d.Version != "2.6.0" {
				t.Errorf("Version = %q, want 2.6.0", d.Version)
			}
			if d.Title != tc.title {
				t.Errorf("Title = %q, want %q", d.Title, tc.title)
			}
			if d.Product != tc.product {
				t.Errorf("Product = %q, want %q", d.Product, tc.product)
			}
			if d.DefaultContentType != "application/json" {
				t.Errorf("DefaultContentType = %q", d.DefaultContentType)
			}
			if d.Discriminator != tc.discriminator {
				t.Errorf("Discriminator = %q, want %q", d.Discriminator, tc.discriminator)
			}

			var names []string
			for _, s := range d.Servers {
				names = append(names, s.Name)
				if s.URL != "{callbackUrl}" || s.Protocol != "https" {
					t.Errorf("server %s: url %q protocol %q", s.Name, s.URL, s.Protocol)
				}
				if s.Hostname != tc.hostnames[s.Name] {
					t.Errorf("server %s: Hostname = %q, want %q", s.Name, s.Hostname, tc.hostnames[s.Name])
				}
				if !reflect.DeepEqual(s.SourceIPs, tc.ips[s.Name]) {
					t.Errorf("server %s: SourceIPs = %q, want %q", s.Name, s.SourceIPs, tc.ips[s.Name])
				}
				if tc.ips != nil && len(s.SourceIPs) != 6 {
					t.Errorf("server %s: %d source IPs, want 6", s.Name, len(s.SourceIPs))
				}
			}
			if want := []string{"customer-apac", "customer-eu", "customer-us"}; !reflect.DeepEqual(names, want) {
				t.Errorf("servers = %q, want %q", names, want)
			}

			if len(d.Messages) != len(tc.messages) {
				t.Fatalf("%d messages, want %d", len(d.Messages), len(tc.messages))
			}
			for i, m := range d.Messages {
				w := tc.messages[i]
				if m.Name != w.name || m.MessageName != w.messageName || m.Key != w.key || m.Const != w.konst {
					t.Errorf("message %d = {Name %q MessageName %q Key %q Const %q}, want %+v", i, m.Name, m.MessageName, m.Key, m.Const, w)
				}
				if m.ContentType != "application/json" || m.Channel != "workflow-execution-callback" || m.Method != "POST" {
					t.Errorf("message %s: ContentType %q Channel %q Method %q", m.Name, m.ContentType, m.Channel, m.Method)
				}
				if want := "#/components/messages/" + w.key + "/payload"; m.Payload != want {
					t.Errorf("message %s: Payload = %q, want %q", m.Name, m.Payload, want)
				}
				if _, ok := d.Get(strings.TrimPrefix(m.Payload, "#")); !ok {
					t.Errorf("message %s: payload %s does not resolve", m.Name, m.Payload)
				}
				wantExamples := 0
				if i == 0 {
					wantExamples = 1
				}
				if len(m.Examples) != wantExamples {
					t.Errorf("message %s: %d examples, want %d", m.Name, len(m.Examples), wantExamples)
				}
			}
			if ex := d.Messages[0].Examples; len(ex) == 1 && !reflect.DeepEqual(ex[0], jsonValue(t, processedExample)) {
				t.Errorf("processed example = %s", mustJSON(t, ex[0]))
			}
			if _, err := json.Marshal(d.Raw); err != nil {
				t.Errorf("json.Marshal(Raw): %v", err)
			}
			checkGolden(t, tc.golden, summary(t, d))
		})
	}
}

// TestJSONLoadsLikeYAML loads JSON renderings of documents (written by an
// independent encoder, indented with spaces, tabs, or not at all) and
// expects exactly what the YAML form gives.
func TestJSONLoadsLikeYAML(t *testing.T) {
	small := `
asyncapi: 2.1.0
info: {title: Small, version: '1'}
x-values: {int: 7, neg: -3, float: 2.5, exp: 1.0e3, yes: true, no: false, nothing: null, text: "a/b é \"q\"", list: [1, "1", [], {}]}
channels:
  "hook/{id}":
    publish:
      message:
        name: event
        contentType: application/cloudevents+json
        payload: {type: object, properties: {id: {type: integer, minimum: 1}}}
`
	smallJSON := `{"asyncapi":"2.1.0","info":{"title":"Small","version":"1"},` +
		`"x-values":{"int":7,"neg":-3,"float":2.5,"exp":1.0e3,"yes":true,"no":false,"nothing":null,"text":"a/b \u00e9 \"q\"","list":[1,"1",[],{}]},` +
		`"channels":{"hook/{id}":{"publish":{"message":{"name":"event","contentType":"application/cloudevents+json",` +
		`"payload":{"type":"object","properties":{"id":{"type":"integer","minimum":1}}}}}}}}`
	tests := []struct {
		name       string
		yaml, json []byte
	}{
		{"jumio-kyx (tab indented)", readFile(t, "jumio-kyx.asyncapi.yaml"), readFile(t, "jumio-kyx.asyncapi.json")},
		{"seed-kyx (space indented)", readFile(t, "seed-kyx.asyncapi.yaml"), readFile(t, "seed-kyx.asyncapi.json")},
		{"small (one line)", []byte(small), []byte(smallJSON)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Load("doc.yaml", tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			j, err := Load("doc.json", tc.json)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(y.Raw, j.Raw) {
				t.Errorf("Raw differs:\nyaml %s\njson %s", mustJSON(t, y.Raw), mustJSON(t, j.Raw))
			}
			// Everything derived from Raw must agree too; only positions differ.
			y.pos, j.pos, y.doc, j.doc = nil, nil, nil, nil
			y.Raw, j.Raw = nil, nil
			if !reflect.DeepEqual(y, j) {
				t.Errorf("documents differ:\nyaml %+v\njson %+v", y, j)
			}
		})
	}
	// The JSON values of the small document have the documented Go types.
	d := loadString(t, smallJSON)
	want := jsonValue(t, `{"int":7,"neg":-3,"float":2.5,"exp":1000,"yes":true,"no":false,"nothing":null,"text":"a/b é \"q\"","list":[1,"1",[],{}]}`)
	if got := d.Raw["x-values"]; !reflect.DeepEqual(got, want) {
		t.Errorf("x-values = %#v, want %#v", got, want)
	}
}

// msg is the part of a Message the table tests compare.
type msg struct {
	Name, MessageName, Key, ContentType, Channel, Method, Payload, Const string
	Examples                                                             int
}

func brief(ms []Message) []msg {
	var out []msg
	for _, m := range ms {
		out = append(out, msg{m.Name, m.MessageName, m.Key, m.ContentType, m.Channel, m.Method, m.Payload, m.Const, len(m.Examples)})
	}
	return out
}

const head = "asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\n"

func TestMessages(t *testing.T) {
	const appJSON = "application/json"
	tests := []struct {
		name string
		doc  string
		want []msg
	}{
		{
			name: "inline message with a name",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        name: ping
        payload: {type: object}
`,
			want: []msg{{"ping", "ping", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/payload", "", 0}},
		},
		{
			name: "inline message without a name is called after its channel",
			doc: head + `
defaultContentType: application/xml
channels:
  hook:
    subscribe:
      message:
        payload: {type: string}
`,
			want: []msg{{"hook", "", "", "application/xml", "hook", "POST", "#/channels/hook/subscribe/message/payload", "", 0}},
		},
		{
			name: "channel names are escaped in payload pointers",
			doc: head + `
channels:
  users/{id}/~events:
    subscribe:
      message:
        payload: {type: object}
`,
			want: []msg{{"users/{id}/~events", "", "", appJSON, "users/{id}/~events", "POST", "#/channels/users~1{id}~1~0events/subscribe/message/payload", "", 0}},
		},
		{
			name: "component keys are escaped in payload pointers",
			doc: head + `
channels:
  hook:
    subscribe:
      message: {$ref: '#/components/messages/a~0b~1c'}
components:
  messages:
    a~b/c:
      payload: {type: object}
`,
			want: []msg{{"a~b/c", "", "a~b/c", appJSON, "hook", "POST", "#/components/messages/a~0b~1c/payload", "", 0}},
		},
		{
			name: "single $ref without oneOf",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        $ref: '#/components/messages/Event'
components:
  messages:
    Event:
      payload: {type: object}
`,
			want: []msg{{"Event", "", "Event", appJSON, "hook", "POST", "#/components/messages/Event/payload", "", 0}},
		},
		{
			name: "$ref chain message to message to message",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        $ref: '#/components/messages/Alias'
components:
  messages:
    Alias:
      $ref: '#/components/messages/Middle'
    Middle:
      $ref: '#/components/messages/Real'
    Real:
      name: real
      payload: {type: object}
`,
			want: []msg{{"real", "real", "Real", appJSON, "hook", "POST", "#/components/messages/Real/payload", "", 0}},
		},
		{
			name: "$ref chain ending outside components/messages has no key",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        $ref: '#/components/messages/Alias'
components:
  messages:
    Alias:
      $ref: '#/x-library/event'
x-library:
  event:
    payload: {type: object}
`,
			want: []msg{{"hook", "", "", appJSON, "hook", "POST", "#/x-library/event/payload", "", 0}},
		},
		{
			name: "publish operation",
			doc: head + `
channels:
  inbox:
    publish:
      message:
        name: incoming
        payload: {type: object}
`,
			want: []msg{{"incoming", "incoming", "", appJSON, "inbox", "POST", "#/channels/inbox/publish/message/payload", "", 0}},
		},
		{
			name: "subscribe before publish on one channel, channels in name order",
			doc: head + `
channels:
  b:
    publish:
      message: {name: b-pub, payload: {}}
    subscribe:
      message: {name: b-sub, payload: {}}
  a:
    publish:
      message: {name: a-pub, payload: {}}
`,
			want: []msg{
				{"a-pub", "a-pub", "", appJSON, "a", "POST", "#/channels/a/publish/message/payload", "", 0},
				{"b-sub", "b-sub", "", appJSON, "b", "POST", "#/channels/b/subscribe/message/payload", "", 0},
				{"b-pub", "b-pub", "", appJSON, "b", "POST", "#/channels/b/publish/message/payload", "", 0},
			},
		},
		{
			name: "oneOf mixes inline and referenced messages, in order",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        oneOf:
          - {$ref: '#/components/messages/Second'}
          - {name: first, contentType: text/plain, payload: {type: string}}
components:
  messages:
    Second:
      name: second
      payload: {type: object}
`,
			want: []msg{
				{"second", "second", "Second", appJSON, "hook", "POST", "#/components/messages/Second/payload", "", 0},
				{"first", "first", "", "text/plain", "hook", "POST", "#/channels/hook/subscribe/message/oneOf/1/payload", "", 0},
			},
		},
		{
			name: "message shared by two channels is listed once, under the first",
			doc: head + `
channels:
  zeta:
    subscribe:
      message:
        oneOf:
          - $ref: '#/components/messages/Shared'
          - $ref: '#/components/messages/Own'
  alpha:
    bindings: {http: {method: put}}
    subscribe:
      message:
        $ref: '#/components/messages/Shared'
    publish:
      message:
        oneOf: [{$ref: '#/components/messages/Shared'}]
components:
  messages:
    Shared: {payload: {}}
    Own: {payload: {}}
`,
			want: []msg{
				{"Shared", "", "Shared", appJSON, "alpha", "PUT", "#/components/messages/Shared/payload", "", 0},
				{"Own", "", "Own", appJSON, "zeta", "POST", "#/components/messages/Own/payload", "", 0},
			},
		},
		{
			name: "http binding method: upper-cased; empty or absent means POST",
			doc: head + `
channels:
  a:
    bindings: {http: {type: request, method: patch}}
    subscribe: {message: {name: a, payload: {}}}
  b:
    bindings: {http: {type: request, method: ''}}
    subscribe: {message: {name: b, payload: {}}}
  c:
    bindings: {kafka: {method: GET}}
    subscribe: {message: {name: c, payload: {}}}
`,
			want: []msg{
				{"a", "a", "", appJSON, "a", "PATCH", "#/channels/a/subscribe/message/payload", "", 0},
				{"b", "b", "", appJSON, "b", "POST", "#/channels/b/subscribe/message/payload", "", 0},
				{"c", "c", "", appJSON, "c", "POST", "#/channels/c/subscribe/message/payload", "", 0},
			},
		},
		{
			name: "JSON Schema and AsyncAPI schema formats are accepted",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        oneOf:
          - {name: a, schemaFormat: 'application/schema+json;version=draft-07', payload: {}}
          - {name: b, schemaFormat: 'application/schema+yaml;version=draft-07', payload: {}}
          - {name: c, schemaFormat: 'application/vnd.aai.asyncapi+json;version=2.6.0', payload: {}}
`,
			want: []msg{
				{"a", "a", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/oneOf/0/payload", "", 0},
				{"b", "b", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/oneOf/1/payload", "", 0},
				{"c", "c", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/oneOf/2/payload", "", 0},
			},
		},
		{
			name: "examples without a payload are left out",
			doc: head + `
channels:
  hook:
    subscribe:
      message:
        name: ev
        payload: {}
        examples:
          - {name: headers only, headers: {X-A: b}}
          - {payload: {n: 1}}
          - {payload: null}
          - not an example
`,
			want: []msg{{"ev", "ev", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/payload", "", 2}},
		},
		{
			name: "channels without operations carry nothing",
			doc: head + `
channels:
  empty: {}
  nothing:
  hook:
    subscribe: {message: {name: ev, payload: {}}}
`,
			want: []msg{{"ev", "ev", "", appJSON, "hook", "POST", "#/channels/hook/subscribe/message/payload", "", 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := loadString(t, tc.doc)
			if got := brief(d.Messages); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("messages:\n got %+v\nwant %+v", got, tc.want)
			}
			for _, m := range d.Messages {
				if _, ok := d.Get(strings.TrimPrefix(m.Payload, "#")); !ok {
					t.Errorf("message %s: payload %s does not resolve", m.Name, m.Payload)
				}
			}
		})
	}
}

func TestExamplesAreJSONValues(t *testing.T) {
	d := loadString(t, head+`
channels:
  hook:
    subscribe:
      message:
        name: ev
        payload: {}
        examples:
          - payload: {n: 1, f: 0.5, ok: true, none: null, when: 2026-05-30T12:00:00Z, list: [a, 2]}
`)
	want := jsonValue(t, `{"n":1,"f":0.5,"ok":true,"none":null,"when":"2026-05-30T12:00:00Z","list":["a",2]}`)
	if got := d.Messages[0].Examples; len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("Examples = %#v, want [%#v]", got, want)
	}
}

func TestDiscriminator(t *testing.T) {
	// doc builds a document whose one channel carries the given payloads,
	// each as a component message M0, M1, ... named m0, m1, ...
	doc := func(schemas string, payloads ...string) string {
		var b strings.Builder
		b.WriteString(head + "channels:\n  hook:\n    subscribe:\n      message:\n        oneOf:\n")
		for i := range payloads {
			fmt.Fprintf(&b, "          - $ref: '#/components/messages/M%d'\n", i)
		}
		b.WriteString("components:\n  messages:\n")
		for i, p := range payloads {
			fmt.Fprintf(&b, "    M%d:\n      name: m%d\n      payload: %s\n", i, i, p)
		}
		if schemas != "" {
			b.WriteString("  schemas:\n" + schemas)
		}
		return b.String()
	}
	tests := []struct {
		name   string
		doc    string
		disc   string
		consts []string // Const of each message; Name is the const when there is a discriminator
	}{
		{
			name: "const at the top level",
			doc:  doc("", "{properties: {type: {const: a}}}", "{properties: {type: {const: b}}}"),
			disc: "/type", consts: []string{"a", "b"},
		},
		{
			name: "allOf with a $ref'd base and a const, as in jumio-kyx",
			doc: doc("    Base: {type: object, properties: {event: {properties: {kind: {type: string, enum: [x, y]}}}}}\n",
				"{allOf: [{$ref: '#/components/schemas/Base'}, {properties: {event: {properties: {kind: {const: x}}}}}]}",
				"{allOf: [{$ref: '#/components/schemas/Base'}, {properties: {event: {properties: {kind: {const: y}}}}}]}"),
			disc: "/event/kind", consts: []string{"x", "y"},
		},
		{
			name: "const reached through $ref of the payload",
			doc: doc("    A: {properties: {t: {const: A}}}\n    B: {properties: {t: {const: B}}}\n",
				"{$ref: '#/components/schemas/A'}", "{$ref: '#/components/schemas/B'}"),
			disc: "/t", consts: []string{"A", "B"},
		},
		{
			name: "single-valued enum counts as a const",
			doc:  doc("", "{properties: {t: {enum: [one]}}}", "{properties: {t: {enum: [two]}}}"),
			disc: "/t", consts: []string{"one", "two"},
		},
		{
			name: "property names with / and ~ are escaped",
			doc:  doc("", "{properties: {a/b~c: {const: p}}}", "{properties: {a/b~c: {const: q}}}"),
			disc: "/a~1b~0c", consts: []string{"p", "q"},
		},
		{
			name: "the shallowest pointer wins, then the first in byte order",
			doc: doc("",
				"{properties: {z: {const: z1}, b: {const: b1}, a: {properties: {deep: {const: d1}}}}}",
				"{properties: {z: {const: z2}, b: {const: b2}, a: {properties: {deep: {const: d2}}}}}"),
			disc: "/b", consts: []string{"b1", "b2"},
		},
		{
			name: "a shared pointer is skipped for one whose values differ",
			doc: doc("",
				"{properties: {version: {const: v1}, type: {const: a}}}",
				"{properties: {version: {const: v1}, type: {const: b}}}"),
			disc: "/type", consts: []string{"a", "b"},
		},
		{
			name: "not chosen when two messages share the value",
			doc: doc("",
				"{properties: {type: {const: a}}}",
				"{properties: {type: {const: b}}}",
				"{properties: {type: {const: a}}}"),
		},
		{
			name: "not chosen when one message lacks the const",
			doc: doc("",
				"{properties: {type: {const: a}}}",
				"{properties: {type: {type: string}}}"),
		},
		{
			name: "not chosen when the first message lacks the const",
			doc: doc("",
				"{properties: {type: {type: string}}}",
				"{properties: {type: {const: a}}}"),
		},
		{
			name: "not chosen for non-string consts",
			doc:  doc("", "{properties: {v: {const: 1}}}", "{properties: {v: {const: 2}}}"),
		},
		{
			name: "not chosen for enums of several values",
			doc:  doc("", "{properties: {v: {enum: [a, b]}}}", "{properties: {v: {enum: [c]}}}"),
		},
		{
			name: "a const of the whole payload is no discriminator",
			doc:  doc("", "{const: a}", "{const: b}"),
		},
		{
			name: "the vendor's own document has none: status is an enum of five",
			doc:  string(readFile(t, "seed-kyx.asyncapi.yaml")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := loadString(t, tc.doc)
			if d.Discriminator != tc.disc {
				t.Errorf("Discriminator = %q, want %q", d.Discriminator, tc.disc)
			}
			for i, m := range d.Messages {
				want := ""
				if tc.consts != nil {
					want = tc.consts[i]
				}
				if m.Const != want {
					t.Errorf("message %d: Const = %q, want %q", i, m.Const, want)
				}
				wantName := m.MessageName
				if tc.disc != "" {
					wantName = want
				}
				if m.Name != wantName {
					t.Errorf("message %d: Name = %q, want %q", i, m.Name, wantName)
				}
			}
		})
	}
}

func TestLookup(t *testing.T) {
	doc := jsonValue(t, `{
		"a/b": {"m~n": [10, {"x": true}, null]},
		"": "empty key",
		"~1": "tilde one",
		"/": "slash",
		"list": [[0, 1], ["a", "b", "c"]],
		"n": 1.5
	}`)
	tests := []struct {
		ptr  string
		want any
		ok   bool
	}{
		{"", doc, true},
		{"/a~1b/m~0n/0", json.Number("10"), true},
		{"/a~1b/m~0n/1/x", true, true},
		{"/a~1b/m~0n/2", nil, true},
		{"/", "empty key", true},
		{"/~01", "tilde one", true}, // ~01 is "~1", not "/"
		{"/~1", "slash", true},
		{"/list/1/2", "c", true},
		{"/list/0", []any{json.Number("0"), json.Number("1")}, true},
		{"/a~1b/m~0n/3", nil, false},  // past the end
		{"/a~1b/m~0n/-", nil, false},  // the append position is nothing
		{"/a~1b/m~0n/-1", nil, false}, // negative
		{"/a~1b/m~0n/x", nil, false},  // not an index
		{"/a/b", nil, false},          // unescaped / splits the token
		{"/n/0", nil, false},          // into a scalar
		{"/missing", nil, false},      // no such key
		{"a~1b", nil, false},          // not a pointer
		{"#/a~1b", nil, false},        // URI fragments are not pointers
		{"/list/1/2/deeper", nil, false},
	}
	for _, tc := range tests {
		got, ok := Lookup(doc, tc.ptr)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v, %v", tc.ptr, got, ok, tc.want, tc.ok)
		}
	}
	// Get is Lookup on Raw.
	d := mustLoad(t, "jumio-kyx.asyncapi.yaml")
	if v, ok := d.Get("/servers/customer-eu/x-callback-source-ips/5"); !ok || v != "52.209.180.134" {
		t.Errorf("Get = %#v, %v", v, ok)
	}
	if v, ok := d.Get("/channels/workflow-execution-callback/subscribe/message/oneOf/4/$ref"); !ok || v != "#/components/messages/WorkflowExecutionTokenExpired" {
		t.Errorf("Get = %#v, %v", v, ok)
	}
}

func TestStrict(t *testing.T) {
	d := loadString(t, head+`
channels:
  hook:
    subscribe:
      message:
        name: ev
        payload: {$ref: '#/components/schemas/Plain'}
components:
  schemas:
    Plain:
      type: object
      properties:
        nested: {type: object, properties: {x: {type: string}}}
        list: {type: array, items: {type: object, properties: {y: {}}}}
        open: {type: object}
        mixed: {allOf: [{type: object, properties: {z: {}}}]}
    Open: {type: object, properties: {a: {}}, additionalProperties: true}
    Schema: {type: object, properties: {a: {}}, additionalProperties: {type: string}}
    Closed: {type: object, properties: {a: {}}, additionalProperties: false}
    NoType: {properties: {a: {}}}
    Nullable: {type: [object, 'null'], properties: {a: {}}}
    Array: {type: array, properties: {a: {}}}
    Empty: {type: object, properties: {}}
`)
	before := mustJSON(t, d.Raw)
	s := d.Strict()
	tests := []struct {
		ptr  string
		want any // the value of additionalProperties in Strict(); nil for absent
	}{
		{"/components/schemas/Plain", false},
		{"/components/schemas/Plain/properties/nested", false},
		{"/components/schemas/Plain/properties/list/items", false},
		{"/components/schemas/Plain/properties/open", nil},
		{"/components/schemas/Plain/properties/mixed/allOf/0", false},
		{"/components/schemas/Plain/properties/mixed", nil},
		{"/components/schemas/Plain/properties/list", nil},
		{"/components/schemas/Open", true},
		{"/components/schemas/Schema", map[string]any{"type": "string"}},
		{"/components/schemas/Closed", false},
		{"/components/schemas/NoType", nil},
		{"/components/schemas/Nullable", nil},
		{"/components/schemas/Array", nil},
		{"/components/schemas/Empty", false},
		{"", nil},
		{"/channels/hook/subscribe/message/payload", nil},
	}
	for _, tc := range tests {
		v, ok := Lookup(s, tc.ptr)
		if !ok {
			t.Errorf("%s: missing in Strict()", tc.ptr)
			continue
		}
		got, _ := v.(map[string]any)["additionalProperties"]
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: additionalProperties = %#v, want %#v", tc.ptr, got, tc.want)
		}
		// Raw keeps what the document says.
		rv, _ := d.Get(tc.ptr)
		if tc.want == false && tc.ptr != "/components/schemas/Closed" {
			if _, has := rv.(map[string]any)["additionalProperties"]; has {
				t.Errorf("%s: Raw gained additionalProperties", tc.ptr)
			}
		}
	}
	// Nothing else changes: removing the added keys gives Raw back.
	if after := mustJSON(t, d.Raw); after != before {
		t.Errorf("Strict mutated Raw:\nbefore %s\nafter  %s", before, after)
	}
	// The copy is deep: changing it leaves Raw alone, and a second call
	// gives a fresh copy.
	plain, _ := Lookup(s, "/components/schemas/Plain/properties/nested/properties")
	plain.(map[string]any)["added"] = "x"
	items, _ := Lookup(s, "/components/schemas/Array/properties")
	delete(items.(map[string]any), "a")
	list, _ := Lookup(s, "/components/schemas/Nullable/type")
	list.([]any)[0] = "string"
	if after := mustJSON(t, d.Raw); after != before {
		t.Errorf("changing Strict() changed Raw:\nbefore %s\nafter  %s", before, after)
	}
	if again := mustJSON(t, d.Strict()); again == mustJSON(t, s) {
		t.Errorf("a second Strict() shares the first one's changes")
	}
}

// strictAdditions lists, one per line, the pointers at which Strict()
// added additionalProperties: false.
func strictAdditions(raw, strict any, ptr string, out *[]string) {
	switch s := strict.(type) {
	case map[string]any:
		r, _ := raw.(map[string]any)
		if _, had := r["additionalProperties"]; !had {
			if v, has := s["additionalProperties"]; has && v == false {
				*out = append(*out, ptr)
			}
		}
		for k, v := range s {
			strictAdditions(r[k], v, ptr+"/"+escape(k), out)
		}
	case []any:
		r, _ := raw.([]any)
		for i, v := range s {
			var rv any
			if i < len(r) {
				rv = r[i]
			}
			strictAdditions(rv, v, fmt.Sprintf("%s/%d", ptr, i), out)
		}
	}
}

func TestStrictRealDocuments(t *testing.T) {
	for _, name := range []string{"jumio-kyx", "seed-kyx"} {
		t.Run(name, func(t *testing.T) {
			d := mustLoad(t, name+".asyncapi.yaml")
			before := mustJSON(t, d.Raw)
			s := d.Strict()
			var added []string
			strictAdditions(d.Raw, s, "", &added)
			sort.Strings(added)
			checkGolden(t, name+".strict.golden", strings.Join(added, "\n")+"\n")
			if after := mustJSON(t, d.Raw); after != before {
				t.Error("Strict mutated Raw")
			}

			// The strict schemas still accept the documented example and
			// reject a field the document does not list.
			jc := jsonschema.NewCompiler()
			jc.Draft = jsonschema.Draft7
			jc.Formats["jumio-timestamp"] = func(any) bool { return true }
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := jc.AddResource("mem://doc.json", bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			m := d.Messages[0]
			sch, err := jc.Compile("mem://doc.json" + m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			example := jsonValue(t, processedExample)
			if err := sch.Validate(example); err != nil {
				t.Errorf("strict %s rejects its example: %v", m.Name, err)
			}
			for _, where := range []string{"", "/workflowExecution", "/account"} {
				extra := jsonValue(t, processedExample)
				obj, _ := Lookup(extra, where)
				obj.(map[string]any)["undocumented"] = "x"
				if err := sch.Validate(extra); err == nil {
					t.Errorf("strict %s accepts an undocumented field at %q", m.Name, where)
				}
			}
		})
	}
}

func TestYAMLValues(t *testing.T) {
	tests := []struct {
		name string
		yaml string // the value of x-v
		want string // as JSON
	}{
		{"integer", "42", `42`},
		{"negative", "-7", `-7`},
		{"float", "2.50", `2.5`},
		{"exponent", "1e3", `1000`},
		{"hex", "0x1F", `31`},
		{"octal", "0o17", `15`},
		{"quoted number stays a string", "'42'", `"42"`},
		{"explicit string tag", "!!str 42", `"42"`},
		{"booleans", "[true, false, True]", `[true, false, true]`},
		{"yes and no are strings in YAML 1.2", "[yes, no, on, off]", `["yes", "no", "on", "off"]`},
		{"nulls", "[null, ~, Null, {e: }]", `[null, null, null, {"e": null}]`},
		{"date stays as written", "2001-12-14", `"2001-12-14"`},
		{"timestamp stays as written", "2001-12-14t21:59:43.10-05:00", `"2001-12-14t21:59:43.10-05:00"`},
		{"timestamp with space stays as written", "2001-12-14 21:59:43.10 -5", `"2001-12-14 21:59:43.10 -5"`},
		{"RFC 3339 stays as written", "2026-05-30T12:00:00.000Z", `"2026-05-30T12:00:00.000Z"`},
		{"IPv4 is a string", "34.202.241.227", `"34.202.241.227"`},
		{"version is a string", "2.6.0", `"2.6.0"`},
		{"binary stays base64", "!!binary aGVsbG8=", `"aGVsbG8="`},
		{"folded text", ">-\n  a\n  b", `"a b"`},
		{"literal text", "|\n  a\n  b", `"a\nb\n"`},
		{"integer keys become strings", "{200: ok, 1.5: x, true: y, null: z}", `{"200": "ok", "1.5": "x", "true": "y", "null": "z"}`},
		{"anchor and alias", "{a: &x {k: [1, v]}, b: *x}", `{"a": {"k": [1, "v"]}, "b": {"k": [1, "v"]}}`},
		{"scalar alias", "[&s hello, *s]", `["hello", "hello"]`},
		{"merge key", "{base: &b {p: 1, q: 2}, use: {<<: *b, r: 3}}", `{"base": {"p": 1, "q": 2}, "use": {"p": 1, "q": 2, "r": 3}}`},
		{"explicit key before the merge wins", "{base: &b {p: 1, q: 2}, use: {q: 9, <<: *b}}", `{"base": {"p": 1, "q": 2}, "use": {"p": 1, "q": 9}}`},
		{"inline merge", "{use: {<<: {p: 1}, r: 3}}", `{"use": {"p": 1, "r": 3}}`},
		{"quoted << is a plain key", `{"<<": {p: 1}}`, `{"<<": {"p": 1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := loadString(t, head+"channels: {c: {subscribe: {message: {payload: {}}}}}\nx-v: "+tc.yaml+"\n")
			want := jsonValue(t, tc.want)
			if got := d.Raw["x-v"]; !reflect.DeepEqual(got, want) {
				t.Errorf("x-v = %#v, want %#v", got, want)
			}
		})
	}
}

// TestAliasesAreCopies checks that an alias gives its own copy of the
// anchored value, so Strict and callers may change one without the other.
func TestAliasesAreCopies(t *testing.T) {
	d := loadString(t, head+`
channels:
  hook:
    subscribe:
      message:
        oneOf:
          - {name: a, payload: &p {type: object, properties: {x: {}}}}
          - {name: b, payload: *p}
`)
	a, _ := d.Get("/channels/hook/subscribe/message/oneOf/0/payload")
	b, _ := d.Get("/channels/hook/subscribe/message/oneOf/1/payload")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("alias differs: %#v vs %#v", a, b)
	}
	a.(map[string]any)["changed"] = true
	if _, has := b.(map[string]any)["changed"]; has {
		t.Error("the alias shares its map with the anchor")
	}
}

func TestErrorsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 13 {
		t.Fatalf("only %d error fixtures", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Load(name, data)
			if err == nil {
				t.Fatalf("Load succeeded with %d messages; want an error", len(d.Messages))
			}
			if d != nil {
				t.Errorf("Load returned a document with its error")
			}
			if !strings.HasPrefix(err.Error(), name+":") {
				t.Errorf("error %q does not start with the document name", err)
			}
			checkGolden(t, filepath.Join("errors", strings.TrimSuffix(name, ".yaml")+".golden"), err.Error()+"\n")
		})
	}
}

func TestMoreErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"message is not a mapping", head + "channels:\n  c:\n    subscribe:\n      message: [a]\n", "e.yaml:6:16: message must be a mapping"},
		{"oneOf entry is not a mapping", head + "channels:\n  c:\n    subscribe:\n      message:\n        oneOf: [x]\n", "e.yaml:7:17: expected a mapping at /channels/c/subscribe/message/oneOf/0"},
		{"channels is empty", head + "channels: {}\n", "e.yaml:1:1: channels: none declared"},
		{"channels carry nothing", head + "channels:\n  c: {}\n", "e.yaml:4:3: no channel carries a message"},
		{"version is not a string", "asyncapi: 2.6\nchannels: {}\n", "e.yaml:1:1: asyncapi: version missing; this is not an AsyncAPI document"},
		{"version 1.2.0", "asyncapi: 1.2.0\n", "e.yaml:1:11: asyncapi 1.2.0 is not supported (2.x only)"},
		{"$ref to the whole document", head + "channels:\n  c:\n    subscribe:\n      message: {$ref: '#'}\n", "e.yaml:1:1: message has no payload"},
		{"schemaFormat is not JSON Schema", head + "channels:\n  c:\n    subscribe:\n      message: {schemaFormat: application/raml+yaml;version=1.0, payload: {}}\n", `e.yaml:6:31: schemaFormat "application/raml+yaml;version=1.0" is not supported (JSON Schema or AsyncAPI schema only)`},
		{"non-scalar key", head + "channels:\n  ? [a]\n  : {}\n", "e.yaml:4:5: channels: a key must be a string, not a sequence"},
		{"merge of a scalar", head + "x: {<<: 1}\n", `e.yaml:3:9: x: a merge key (<<) needs a mapping or a sequence of mappings, not "1"`},
		{"merge of a sequence holding a scalar", head + "x: {<<: [{a: 1}, 3]}\n", `e.yaml:3:18: x: a merge key (<<) needs a mapping or a sequence of mappings, not "3"`},
		{"billion laughs", laughs(6), "e.yaml:5:45: the document expands to more than 100000 nodes (aliases?)"},
		{"JSON key twice", "{\n  \"asyncapi\": \"2.6.0\",\n  \"channels\": {},\n  \"channels\": {}\n}\n", `e.yaml:4:3: key "channels" appears twice`},
		// Positions in JSON count characters as written, escapes included.
		{"JSON position after escapes", `{"asyncapi":"2.6.0","info":{"title":"a\/b \ud83d\ude00 é","version":"1"},"channels":{"c":{"subscribe":{"message":[1]}}}}`, "e.yaml:1:114: message must be a mapping"},
		// A YAML flow mapping is not JSON, though it starts with {.
		{"YAML flow mapping document", "{a: 1, asyncapi: 2.6.0}", "e.yaml:1:1: channels: none declared"},
		{"infinite number", head + "x: .inf\n", `e.yaml:3:4: x: ".inf" has no JSON form`},
		{"bad explicit int", head + "x: !!int abc\n", `e.yaml:3:4: x: "abc" has no JSON form`},
		{"nesting too deep", head + "x: " + strings.Repeat("[", 202) + strings.Repeat("]", 202) + "\n", "e.yaml:3:204: the document nests deeper than 200 levels"},
		{"unknown alias", head + "x: *nope\n", "e.yaml:3:4: YAML: unknown anchor 'nope' referenced"},
		{"null document", "~\n", "e.yaml:1:1: empty document"},
		{"scalar document", "hello\n", "e.yaml: the document is not a mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("e.yaml", []byte(tc.doc))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\n   want %s", err, tc.want)
			}
		})
	}
}

// Only the first document of a stream is read.
func TestFirstDocumentOnly(t *testing.T) {
	d := loadString(t, head+"channels: {c: {subscribe: {message: {name: first, payload: {}}}}}\n---\nnot: read\n")
	if len(d.Messages) != 1 || d.Messages[0].Name != "first" {
		t.Errorf("messages = %+v", brief(d.Messages))
	}
}

func TestNoPositionWithoutSource(t *testing.T) {
	// A document built by hand has no positions; errAt still reads well.
	d := &Document{Raw: map[string]any{}, pos: map[string]pos{}}
	if err := d.read(); err == nil || err.Error() != " asyncapi: version missing; this is not an AsyncAPI document" {
		t.Errorf("read() = %v", err)
	}
}

// TestStrictOnlySchemas checks that Strict changes schemas wherever they
// are, under names that are also keywords too, and leaves data alone.
func TestStrictOnlySchemas(t *testing.T) {
	d := loadString(t, head+`
channels:
  hook:
    subscribe:
      message:
        name: ev
        payload:
          type: object
          properties:
            default: {type: object, properties: {a: {}}}
            shared: {$ref: '#/x-shared/Thing'}
            kind: {enum: [{type: object, properties: {a: {}}}]}
          default: {type: object, properties: {a: {}}}
        examples:
          - payload: {type: object, properties: {a: {}}}
        bindings:
          kafka: {key: {type: object, properties: {a: {}}}}
x-shared:
  Thing: {type: object, properties: {a: {}}}
x-data: {type: object, properties: {a: {}}}
`)
	s := d.Strict()
	for ptr, want := range map[string]bool{
		"/channels/hook/subscribe/message/payload":                    true,
		"/channels/hook/subscribe/message/payload/properties/default": true,
		"/x-shared/Thing": true,
		"/channels/hook/subscribe/message/bindings/kafka/key":             true,
		"/channels/hook/subscribe/message/payload/properties/kind/enum/0": false,
		"/channels/hook/subscribe/message/payload/default":                false,
		"/channels/hook/subscribe/message/examples/0/payload":             false,
		"/x-data": false,
	} {
		v, ok := Lookup(s, ptr)
		if !ok {
			t.Errorf("%s: missing in Strict()", ptr)
			continue
		}
		if _, has := v.(map[string]any)["additionalProperties"]; has != want {
			t.Errorf("%s: additionalProperties added = %v, want %v", ptr, has, want)
		}
	}
}
