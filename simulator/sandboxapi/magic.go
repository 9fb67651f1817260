package sandboxapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// Magic is one magic value: a suffix of the customer's reference
// (customerInternalReference, externalUserId) that picks an outcome at
// creation, without the page, like a test card number.
type Magic struct {
	Product, Suffix, Outcome, Reason string
}

// MagicValues is the documented table of magic values. A reference that
// ends with a suffix (case-insensitive) plays the outcome as soon as the
// verification is created.
var MagicValues = []Magic{
	{"jumio-kyx", "-passed", "PASSED", ""},
	{"jumio-kyx", "-rejected", "REJECTED", ""},
	{"jumio-kyx", "-warning", "WARNING", ""},
	{"jumio-kyx", "-session-expired", "SESSION_EXPIRED", ""},
	{"jumio-kyx", "-token-expired", "TOKEN_EXPIRED", ""},
	{"jumio-netverify", "-approved", "APPROVED_VERIFIED", ""},
	{"jumio-netverify", "-fraud", "DENIED_FRAUD", "100"},
	{"jumio-netverify", "-not-readable", "ERROR_NOT_READABLE_ID", "102"},
	{"jumio-netverify", "-no-id", "NO_ID_UPLOADED", ""},
	{"jumio-netverify", "-unsupported-type", "DENIED_UNSUPPORTED_ID_TYPE", ""},
	{"jumio-netverify", "-unsupported-country", "DENIED_UNSUPPORTED_ID_COUNTRY", ""},
	{"sumsub", "-green", "MAGIC_GREEN", ""},
	{"sumsub", "-red", "MAGIC_RED", ""},
	{"sumsub", "-red-retry", "MAGIC_RED_RETRY", ""},
}

// magicFor finds the magic value a reference ends with: the longest
// matching suffix, so that -red-retry wins over -red... and a Netverify
// code may follow: -fraud-105.
func magicFor(product, ref string) (Magic, bool) {
	ref = strings.ToLower(ref)
	var best Magic
	found := false
	for _, m := range MagicValues {
		if m.Product != product {
			continue
		}
		if strings.HasSuffix(ref, m.Suffix) && len(m.Suffix) > len(best.Suffix) {
			best, found = m, true
		}
		// A reject code after the suffix: -fraud-105.
		if i := strings.LastIndex(ref, m.Suffix+"-"); i >= 0 && m.Reason != "" {
			code := ref[i+len(m.Suffix)+1:]
			if code != "" && strings.Trim(code, "0123456789") == "" {
				best, found = Magic{m.Product, m.Suffix + "-" + code, m.Outcome, code}, true
			}
		}
	}
	return best, found
}

// magic returns the callbacks a new verification sends at once: Sumsub's
// applicantCreated, and the outcome a magic reference picks.
func (s *Server) magic(v *sandbox.Verification, rec *record, now time.Time) ([]*sandbox.Delivery, error) {
	var out []*sandbox.Delivery
	if v.Product == "sumsub" {
		ds, plan, err := s.play(v, rec, "CREATED", "", now, s.fieldsFor(v, rec))
		if err != nil {
			return nil, err
		}
		s.applyPlan(v, rec, "CREATED", "", plan)
		out = append(out, ds...)
	}
	m, ok := magicFor(v.Product, v.ExternalRef)
	if !ok {
		return out, nil
	}
	ds, plan, err := s.play(v, rec, m.Outcome, m.Reason, now, s.fieldsFor(v, rec))
	if err != nil {
		return nil, fmt.Errorf("magic value %s: %w", m.Suffix, err)
	}
	s.applyPlan(v, rec, m.Outcome, m.Reason, plan)
	return append(out, ds...), nil
}

// Expire ends the verifications whose token or session ran out by now
// on the sandbox clock, as the vendor does by itself: a KYX workflow
// never started gets TOKEN_EXPIRED, one started SESSION_EXPIRED; a
// Netverify transaction NO_ID_UPLOADED. The callback is dated when the
// expiry happened. It returns how many it ended.
func (s *Server) Expire(ctx context.Context) (int, error) {
	s.expiry.Lock()
	defer s.expiry.Unlock()
	now := s.cfg.Clock.Now()
	vs, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{ExpiresBy: now, Limit: sandbox.MaxLimit})
	if err != nil {
		return 0, fmt.Errorf("expire: %w", err)
	}
	n := 0
	for _, v := range vs {
		if err := s.expire(ctx, v.ID); err != nil {
			return n, fmt.Errorf("expire %s: %w", v.ID, err)
		}
		n++
	}
	if n > 0 {
		s.cfg.Wake()
	}
	return n, nil
}

// expire ends one verification at its ExpiresAt.
func (s *Server) expire(ctx context.Context, id string) error {
	_, err := sandbox.Update(ctx, s.cfg.Store, id, func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
		if v.ExpiresAt.IsZero() {
			return nil, nil
		}
		rec, err := readRecord(v)
		if err != nil {
			return nil, err
		}
		at := v.ExpiresAt
		var outcome string
		switch v.Product {
		case "jumio-kyx":
			outcome = "TOKEN_EXPIRED"
			if rec.Started {
				outcome = "SESSION_EXPIRED"
			}
		case "jumio-netverify":
			outcome = "NO_ID_UPLOADED"
		default:
			v.ExpiresAt = time.Time{}
			return nil, nil
		}
		// Plan once to learn the scenario's span, then from the time that
		// makes its last callback fall on the expiry.
		probe := *rec
		probe.Sent, probe.Timeline = slices.Clone(rec.Sent), slices.Clone(rec.Timeline)
		_, plan, err := s.play(v, &probe, outcome, "", at, nil)
		if err != nil {
			return nil, err
		}
		start := at.Add(-plan.End.Sub(at))
		ds, plan, err := s.play(v, rec, outcome, "", start, s.fieldsFor(v, rec))
		if err != nil {
			return nil, err
		}
		s.applyPlan(v, rec, outcome, "", plan)
		v.UpdatedAt = s.cfg.Clock.Now()
		return ds, rec.write(v)
	})
	return err
}
