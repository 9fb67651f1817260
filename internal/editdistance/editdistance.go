// Package editdistance measures how far apart two short names are, for
// "did you mean" suggestions.
package editdistance

import (
	"fmt"
	"strings"
)

// Max is what Distance returns for a string longer than 64 bytes: such
// strings are not names worth suggesting for.
const Max = 64

// Distance is the Levenshtein distance of two short strings (bytes).
func Distance(a, b string) int {
	if len(a) > Max || len(b) > Max {
		return Max
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Nearest returns the known name closest to name, compared without case,
// when it is close enough to be the one meant (at most 2 edits, or a
// quarter of the name's length for longer names), and "" otherwise. Ties
// go to the first known name.
func Nearest(name string, known []string) string {
	best, bestD := "", max(2, len(name)/4)+1
	for _, k := range known {
		if d := Distance(strings.ToLower(name), strings.ToLower(k)); d < bestD && d < len(k) {
			best, bestD = k, d
		}
	}
	return best
}

// DidYouMean is "; did you mean "X"?" for the known name nearest to name,
// or "" when none is close.
func DidYouMean(name string, known []string) string {
	if n := Nearest(name, known); n != "" && n != name {
		return fmt.Sprintf("; did you mean %q?", n)
	}
	return ""
}
