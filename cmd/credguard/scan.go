package main

import (
	"fmt"
	"io"
)

func runScan(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "credguard scan: not implemented yet")
	return 2
}
