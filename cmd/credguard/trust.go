package main

import (
	"fmt"
	"io"
)

func runTrust(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "credguard trust: not implemented yet")
	return 2
}
