//go:build !linux

package load

import "time"

// fineSleep sleeps d.
func fineSleep(d time.Duration) { time.Sleep(d) }

// preciseThread does nothing where the timer slack is not a setting.
func preciseThread() {}
