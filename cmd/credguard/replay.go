package main

import (
	"fmt"
	"io"
)

func runReplay(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "credguard replay: not implemented yet")
	return 2
}
