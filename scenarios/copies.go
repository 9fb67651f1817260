package scenarios

import (
	"context"
	"fmt"
	"sync"
)

// sendCopies plays a parallel step of identical copies of one send
// ({count: N, send: ..., identical: true}): the callback is built and signed once, and
// its N byte-identical copies are released at the same instant, as a
// vendor's duplicate deliveries that race a receiver's first look-up of
// the event. Each copy's answer is checked against the step's expect.
func (r *runner) sendCopies(ctx context.Context, index int, st *Step) []StepResult {
	part := &st.Parallel[0]
	s := part.Send
	p, label, failure := r.prepare(s, r.rand("step", index, 1))
	if part.Name != "" {
		label = part.Name
	}
	out := make([]StepResult, len(st.Parallel))
	for i := range out {
		out[i] = StepResult{Index: index, Kind: KindSend, Pos: part.Pos.String(),
			Label: fmt.Sprintf("parallel: %s (copy %d of %d)", label, i+1, len(out))}
	}
	fail := func(msg string) []StepResult {
		for i := range out {
			out[i].Failures = append(out[i].Failures, msg)
		}
		return out
	}
	if failure != "" {
		return fail(failure)
	}
	req := p.req
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			<-start
			out[i] = r.deliver(ctx, out[i], req, s.Expect)
		})
	}
	close(start)
	wg.Wait()
	return out
}
