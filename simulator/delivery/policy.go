package delivery

import (
	"fmt"
	"strings"
	"time"
)

// RetryPolicy says how a vendor delivers one callback: how long it waits
// to connect and for an answer, and how long it waits before each retry
// of a callback that was not acknowledged with a 2xx.
type RetryPolicy struct {
	// Name says where the policy comes from.
	Name string
	// ConnectTimeout bounds connecting (TCP and TLS) per attempt.
	ConnectTimeout time.Duration
	// AnswerTimeout bounds the whole exchange per attempt, from sending
	// the request to reading the answer.
	AnswerTimeout time.Duration
	// Delays are the waits before the 2nd, 3rd, ... attempt, each after
	// the end of the attempt before; no delays means one attempt only.
	Delays []time.Duration
}

// Attempts returns how many attempts the policy makes at most.
func (p RetryPolicy) Attempts() int { return 1 + len(p.Delays) }

// NoRetry returns the policy with its retries removed.
func (p RetryPolicy) NoRetry() RetryPolicy {
	p.Delays = nil
	p.Name += " (no retry)"
	return p
}

// String describes the policy in one line.
func (p RetryPolicy) String() string {
	ds := make([]string, len(p.Delays))
	for i, d := range p.Delays {
		ds[i] = d.String()
	}
	retries := "no retries"
	if len(ds) > 0 {
		retries = "retries after " + strings.Join(ds, ", ")
	}
	return fmt.Sprintf("%s: connect %s, answer %s, %s", p.Name, p.ConnectTimeout, p.AnswerTimeout, retries)
}

// The vendors' policies. Sumsub's come from its webhook documentation:
// the endpoint must accept the connection within 1 s and answer within
// 10 s; applicantActionPending/Reviewed/OnHold are resent after 30 s,
// 30 s, 1 min and 5 min, every other type after 5 min, 1 h, 5 h and 18 h.
// The documents do not say whether the waits count from the first attempt
// or from the one before; kycsim counts each from the attempt before.
var (
	SumsubPolicy = RetryPolicy{
		Name:           "sumsub",
		ConnectTimeout: time.Second,
		AnswerTimeout:  10 * time.Second,
		Delays:         []time.Duration{5 * time.Minute, time.Hour, 5 * time.Hour, 18 * time.Hour},
	}
	SumsubActionPolicy = RetryPolicy{
		Name:           "sumsub applicant actions",
		ConnectTimeout: time.Second,
		AnswerTimeout:  10 * time.Second,
		Delays:         []time.Duration{30 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute},
	}
	// JumioPolicy is kycsim's choice: Jumio publishes no retry schedule,
	// deadline or timeout for callbacks (unconfirmed). It asks receivers
	// to answer 200 at once, so kycsim allows 5 s to connect and 10 s to
	// answer, and retries four times after 1 min, 5 min, 30 min and 2 h.
	// Every value is a setting (send --retry-delays, --connect-timeout,
	// --answer-timeout).
	JumioPolicy = RetryPolicy{
		Name:           "jumio (kycsim default; the vendor publishes none)",
		ConnectTimeout: 5 * time.Second,
		AnswerTimeout:  10 * time.Second,
		Delays:         []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour},
	}
)

// PolicyFor returns the vendor's policy for a product's message.
func PolicyFor(product, message string) RetryPolicy {
	if product == "sumsub" {
		switch message {
		case "applicantActionPending", "applicantActionReviewed", "applicantActionOnHold":
			return SumsubActionPolicy
		}
		return SumsubPolicy
	}
	return JumioPolicy
}

// ParseDelays reads a comma-separated list of Go durations ("30s,1m,5m");
// "" and "none" mean no retries.
func ParseDelays(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	var out []time.Duration
	for i, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("delay %d: %w", i+1, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("delay %d: %s is negative", i+1, d)
		}
		if d > MaxDelay {
			return nil, fmt.Errorf("delay %d: %s is longer than %s", i+1, d, MaxDelay)
		}
		out = append(out, d)
	}
	if len(out) > MaxRetries {
		return nil, fmt.Errorf("%d retries; at most %d", len(out), MaxRetries)
	}
	return out, nil
}

// MaxRetries bounds a policy's retries.
const MaxRetries = 100

// MaxDelay bounds one wait between attempts (Sumsub's longest is 18 h).
const MaxDelay = 7 * 24 * time.Hour
