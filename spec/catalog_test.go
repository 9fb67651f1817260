package spec

import (
	"os"
	"testing"
)

// TestLazyCompile checks that validating one payload loads one product,
// compiles one level and one message, and leaves the full validator out
// of a valid payload's verdict; an invalid payload compiles the full
// validator for the schema it fails, only.
func TestLazyCompile(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Product("sumsub")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/samples/sumsub/applicantCreated.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Validate(body, Options{})
	if err != nil || !res.Valid() {
		t.Fatalf("validate: %v %+v", err, res)
	}
	for _, e := range c.entries {
		if loaded := e.p != nil; loaded != (e.name == "sumsub") {
			t.Errorf("product %s loaded = %v after validating a sumsub payload", e.name, loaded)
		}
	}
	if p.levels[LevelStrict].c != nil {
		t.Error("level strict compiled for a level vendor verdict")
	}
	vendor := p.levels[LevelVendor].c
	built := 0
	for name, lu := range vendor.units {
		if lu.u == nil {
			continue
		}
		built++
		if name != "applicantCreated" {
			t.Errorf("message %q compiled", name)
		}
		if lu.u.doc.jc != nil {
			t.Errorf("message %q: the full validator compiled for a valid payload", name)
		}
	}
	if built != 1 {
		t.Errorf("%d message schemas built, want 1", built)
	}

	res, err = p.Validate([]byte(`{"type": "applicantCreated", "reviewStatus": "done"}`), Options{})
	if err != nil || res.Valid() {
		t.Fatalf("validate an invalid payload: %v %+v", err, res)
	}
	u := vendor.units["applicantCreated"].u
	compiled := 0
	u.doc.compiled.Range(func(_, _ any) bool { compiled++; return true })
	if u.doc.jc == nil || compiled == 0 {
		t.Error("the full validator did not explain the invalid payload")
	}
}

// TestConcurrentValidate validates from many goroutines at once on a
// fresh catalog, so that every lazy step (the product, the level, the
// message, the decided variant, the full validator) is raced (go test
// -race), and checks each verdict against the one given alone.
func TestConcurrentValidate(t *testing.T) {
	type job struct {
		product string
		body    []byte
		lv      Level
	}
	var jobs []job
	for _, name := range productOrder {
		for _, body := range [][]byte{benchBody(t, name), benchInvalidBody(t, name)} {
			for _, lv := range Levels {
				jobs = append(jobs, job{name, body, lv})
			}
		}
	}
	want := make([]string, len(jobs))
	ref := mustCatalog(t)
	for i, j := range jobs {
		p, err := ref.Product(j.product)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Validate(j.body, Options{Level: j.lv})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = renderResult(res)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	errs := make(chan string, workers*len(jobs))
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, j := range jobs {
				p, err := c.Product(j.product)
				if err != nil {
					errs <- err.Error()
					return
				}
				res, err := p.Validate(j.body, Options{Level: j.lv})
				if err != nil {
					errs <- err.Error()
					return
				}
				if got := renderResult(res); got != want[i] {
					errs <- j.product + " " + string(j.lv) + ": got\n" + got + "want\n" + want[i]
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
