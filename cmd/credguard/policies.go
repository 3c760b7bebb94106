package main

import (
	"fmt"
	"io"
)

func runPolicies(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "credguard policies: not implemented yet")
	return 2
}
