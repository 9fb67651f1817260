package editdistance

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"levelName", "levelNmae", 2},
		{"reviewStatus", "reviewStatu", 1}, {"kitten", "sitting", 3}, {strings.Repeat("a", 65), "a", Max},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	products := []string{"jumio-kyx", "jumio-netverify", "jumio-auth", "jumio-docverify", "sumsub"}
	for _, tt := range []struct {
		name  string
		known []string
		want  string
	}{
		{"sumsup", products, "sumsub"},
		{"jumio-kxy", products, "jumio-kyx"},
		{"JUMIO-AUTH", products, "jumio-auth"},
		{"onfido", products, ""},
		{"x", []string{"y"}, ""},
		{"applicantReviewd", []string{"applicantCreated", "applicantReviewed", "applicantActionReviewed"}, "applicantReviewed"},
		{"frud", []string{"fraud", "dedup"}, "fraud"},
		{"sumsub/hapy-path", []string{"sumsub/happy-path", "jumio-kyx/happy-path"}, "sumsub/happy-path"},
	} {
		if got := Nearest(tt.name, tt.known); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := DidYouMean("sumsup", products); got != `; did you mean "sumsub"?` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("onfido", products); got != "" {
		t.Errorf("DidYouMean of a far name = %q, want nothing", got)
	}
}
