// Package editdistance measures how far apart two short names are, for
// "did you mean" suggestions.
package editdistance

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
