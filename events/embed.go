// Package events embeds the sample EventBridge events and sandbox fixtures so
// that the CLI, the demo and the tests use the very files in this directory:
// *.json are well-formed events the guardrails handle, invalid/*.json are
// malformed or unsupported ones, and fixtures/*.json are sandbox fixtures
// (fixtures/demo.json seeds `make demo`; see fixtures/README.md).
package events

import "embed"

// Files holds *.json, invalid/*.json and fixtures/*.json from this directory.
//
//go:embed *.json invalid/*.json fixtures/*.json
var Files embed.FS
