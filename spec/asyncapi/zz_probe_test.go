package asyncapi

import (
	"fmt"
	"testing"
	"time"
)

func TestZZProbe(t *testing.T) {
	base := "asyncapi: 2.6.0\nchannels:\n  c:\n    subscribe:\n      message:\n        name: m\n        payload: {$ref: '#/components/schemas/T'}\ncomponents:\n  schemas:\n    T:\n      type: object\n      properties:\n"
	s := base
	for j := 0; j < 3; j++ {
		s += fmt.Sprintf("        p%d: {$ref: '#/components/schemas/T'}\n", j)
	}
	start := time.Now()
	_, err := Load("p.yaml", []byte(s))
	fmt.Println(time.Since(start), err)
}
