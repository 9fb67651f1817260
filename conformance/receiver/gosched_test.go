package receiver

import "runtime"

func runtimeGosched() { runtime.Gosched() }
