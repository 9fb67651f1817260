package fieldtable

import (
	"slices"
	"testing"

	"github.com/kycsim/kycsim/spec/asyncapi"
)

// realTrafficTable uses what level vendor takes beyond a document: the
// table-wide null rule, empty values for "not sent", a row of level
// vendor, and requirements of level strict only.
const realTrafficTable = `product: rt
encoding: json
vendor: {nullOptional: true, note: real deliveries send null for absent attributes}
messages:
  - {name: Plain, match: {type: plain}}
  - {name: Action, match: {type: action}}
  - {name: Txn, match: {type: txn}, beyondSource: true, note: documented on another page}
fields:
  - {name: type, required: true, enum: [plain, action, txn]}
  - {name: id, required: true}
  - name: actionId
    cases:
      - {when: {type: [action]}, required: true, note: actionId is sent with action}
  - name: level
    cases:
      - {when: {type: [plain, action]}, required: true}
      - {when: {type: [txn]}, required: true, level: strict, note: txn webhooks have no level}
  - {name: flag, type: boolean, nullable: true}
  - {name: count, type: integer, enum: [1, 2]}
  - name: check
    type: object
    vendor: {empty: true, note: "a test lab sends {}"}
    cases:
      - {unless: {type: [plain]}, absent: true}
    fields:
      - {name: a, required: true}
      - {name: b}
  - name: reason
    type: object
    fields:
      - {name: code, required: true, enum: ["1", "2"]}
      - name: details
        type: array
        minItems: 1
        vendor: {empty: true, note: "[] for codes without details"}
        cases:
          - {unless: {code: ["1"]}, absent: true}
        items: {type: string}
  - {name: source, level: vendor, note: real traffic carries it}
`

func TestVendorNullOptional(t *testing.T) {
	tb := mustLoad(t, realTrafficTable)
	for _, msg := range []string{"", "Plain", "Action"} {
		vendor := mustCompile(t, tb, msg, LevelVendor)
		strict := mustCompile(t, tb, msg, LevelStrict)
		checkInstances(t, strict, []instance{
			{`{"type": "plain", "id": "1", "level": "l", "actionId": null}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "count": null}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "flag": null}`, msg != "Action"},
		})
		checkInstances(t, vendor, []instance{
			{`{"type": "plain", "id": "1", "level": "l", "actionId": null, "count": null, "flag": null, "reason": null, "check": null}`, msg != "Action"},
			{`{"type": "plain", "id": null, "level": "l"}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "count": 3}`, false},
			{`{"type": "plain", "id": "1", "level": null}`, false},
		})
	}
	// A case that requires the field asks for a value, decided or not.
	for _, msg := range []string{"", "Action"} {
		checkInstances(t, mustCompile(t, tb, msg, LevelVendor), []instance{
			{`{"type": "action", "id": "1", "level": "l", "actionId": null}`, false},
			{`{"type": "action", "id": "1", "level": "l", "actionId": "x"}`, true},
		})
	}
	for _, tt := range []struct {
		name           string
		vendor, strict bool
	}{{"actionId", true, false}, {"count", true, false}, {"flag", true, true}, {"id", false, false}, {"source", true, false}, {"nothing", false, false}} {
		if got := tb.Nullable(tt.name, LevelVendor); got != tt.vendor {
			t.Errorf("Nullable(%s, vendor) = %v, want %v", tt.name, got, tt.vendor)
		}
		if got := tb.Nullable(tt.name, LevelStrict); got != tt.strict {
			t.Errorf("Nullable(%s, strict) = %v, want %v", tt.name, got, tt.strict)
		}
	}
}

func TestVendorEmpty(t *testing.T) {
	tb := mustLoad(t, realTrafficTable)
	for _, msg := range []string{"", "Plain", "Action"} {
		checkInstances(t, mustCompile(t, tb, msg, LevelVendor), []instance{
			// {} is accepted where the object is sent, and where it is not.
			{`{"type": "plain", "id": "1", "level": "l", "check": {}}`, msg != "Action"},
			{`{"type": "action", "id": "1", "level": "l", "actionId": "x", "check": {}}`, msg != "Plain"},
			{`{"type": "action", "id": "1", "level": "l", "actionId": "x", "check": {"a": "1"}}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "check": {"b": "1"}}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "check": []}`, false},
			// [] stands for "not sent" only where the details are not sent.
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "2", "details": []}}`, msg != "Action"},
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "1", "details": []}}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "1", "details": ["d"]}}`, msg != "Action"},
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "2", "details": ["d"]}}`, false},
		})
		checkInstances(t, mustCompile(t, tb, msg, LevelStrict), []instance{
			{`{"type": "plain", "id": "1", "level": "l", "check": {}}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "2", "details": []}}`, false},
			{`{"type": "plain", "id": "1", "level": "l", "reason": {"code": "1", "details": ["d"]}}`, msg != "Action"},
		})
	}
}

func TestVendorRowsAndRequirements(t *testing.T) {
	tb := mustLoad(t, realTrafficTable)
	if got := tb.TopFields(LevelVendor); !slices.Contains(got, "source") {
		t.Errorf("TopFields(vendor) = %v, want source in it", got)
	}
	if got := tb.TopFields(LevelStrict); slices.Contains(got, "source") {
		t.Errorf("TopFields(strict) = %v, want no source", got)
	}
	txn := `{"type": "txn", "id": "1", "source": "s"}`
	checkInstances(t, mustCompile(t, tb, "Txn", LevelVendor), []instance{{txn, true}, {`{"type": "txn", "id": "1", "source": 1}`, false}})
	checkInstances(t, mustCompile(t, tb, "Txn", LevelStrict), []instance{{txn, false}, {`{"type": "txn", "id": "1", "level": "l"}`, true}})
	reqs := tb.RequiredOnlyAt(LevelStrict)
	if len(reqs) != 1 || reqs[0].Field != "level" || reqs[0].Note != "txn webhooks have no level" {
		t.Fatalf("RequiredOnlyAt(strict) = %+v", reqs)
	}
	lookup := func(v any) func(string) (any, bool) {
		return func(ptr string) (any, bool) { return asyncapi.Lookup(v, ptr) }
	}
	if !reqs[0].Case.Holds(lookup(decodeJSON(t, txn))) || reqs[0].Case.Holds(lookup(decodeJSON(t, `{"type": "plain"}`))) {
		t.Error("the strict requirement holds for the wrong payloads")
	}
	if got := tb.RequiredOnlyAt(LevelVendor); len(got) != 0 {
		t.Errorf("RequiredOnlyAt(vendor) = %+v, want none", got)
	}
	if m := tb.Message("Txn"); m == nil || !m.BeyondSource || m.Note != "documented on another page" {
		t.Errorf("message Txn = %+v", m)
	}
}

func init() {
	decidedTests = append(decidedTests, struct {
		name      string
		table     string
		level     Level
		instances []string
		bug       string
	}{
		name:  "real traffic at level vendor",
		table: realTrafficTable,
		level: LevelVendor,
		instances: []string{
			`{"type": "plain", "id": "1", "level": "l", "check": {}, "actionId": null}`,
			`{"type": "action", "id": "1", "level": "l", "actionId": null}`,
			`{"type": "action", "id": "1", "level": "l", "actionId": "a", "check": {}}`,
			`{"type": "txn", "id": "1", "check": {"a": "x"}}`,
			`{"type": "other", "id": "1", "reason": {"code": "2", "details": []}}`,
			`{"type": "plain", "id": "1", "level": null}`,
		},
	})
}
