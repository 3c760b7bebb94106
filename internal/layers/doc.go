// Package layers holds no code: its test checks that Credguard's packages
// import only down the layers docs/architecture.md draws.
package layers
