package load

import (
	"syscall"
	"time"
)

// fineSleep sleeps d with the kernel's precision: Go's timers wait in
// whole milliseconds on Linux (epoll_wait), which would start arrivals
// up to a millisecond late.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}

// preciseThread makes the calling thread's sleeps end on time, not up to
// 50 µs late (the default timer slack). Call it on a thread locked to
// its goroutine.
func preciseThread() {
	const prSetTimerSlack = 29
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
}
