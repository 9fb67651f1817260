// Command kycsim plays a KYC vendor (Jumio, Sumsub) toward a webhook
// receiver and judges that receiver. This file only wires Main.Run.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
