package accounts

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Clients returns a function that hands out one client per account and
// region, built once by newClient from that account's configuration and then
// reused (a client per call would open a connection pool per call).
// Credentials are cached by the provider; pass region "" for global services.
func Clients[C any](p *Provider, newClient func(aws.Config) C) func(ctx context.Context, account, region string) (C, error) {
	var mu sync.Mutex
	clients := map[string]C{}
	return func(ctx context.Context, account, region string) (C, error) {
		cfg, err := p.Config(ctx, account, region)
		if err != nil {
			var zero C
			return zero, err
		}
		key := account + "/" + region
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[key]; ok {
			return c, nil
		}
		c := newClient(cfg)
		clients[key] = c
		return c, nil
	}
}
