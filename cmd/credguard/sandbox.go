package main

import (
	"fmt"
	"io"
)

func runSandbox(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "credguard sandbox: not implemented yet")
	return 2
}
