// Package auth holds passwords, access tokens, refresh tokens and signing keys.
package auth

import (
	"context"
	"runtime"
	"runtime/debug"

	"github.com/alexedwards/argon2id"

	"github.com/probation-register/register/register"
)

// Passwords hashes and checks passwords with argon2id. Each hash takes
// Params.Memory KiB, so concurrent hashing is bounded to the CPU count.
type Passwords struct {
	Params *argon2id.Params
	slots  chan struct{}
	dummy  string
}

// NewPasswords returns a hasher; nil params means argon2id's defaults (64 MiB).
func NewPasswords(params *argon2id.Params) *Passwords {
	if params == nil {
		params = argon2id.DefaultParams
	}
	p := &Passwords{Params: params, slots: make(chan struct{}, runtime.NumCPU())}
	p.dummy, _ = argon2id.CreateHash("not a password of anyone", params)
	p.release()
	return p
}

// release returns a finished hash's memory at once. Left to the garbage
// collector, the 64 MiB block sets its next goal at twice that, and a busy
// server's heap then grows to it (RSS under load 175 MB instead of 55 MB).
func (p *Passwords) release() {
	if p.Params.Memory >= 16*1024 { // KiB: test parameters are too small to matter
		debug.FreeOSMemory()
	}
}

// TestParams are cheap parameters for tests only.
var TestParams = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CheckPolicy returns EINVALID if a new password is too weak.
func CheckPolicy(password, email string) error {
	switch {
	case len([]rune(password)) < MinPasswordLength:
		return register.FieldError("password", "must be at least 12 characters")
	case len(password) > 256:
		return register.FieldError("password", "must be at most 256 characters")
	case password == email:
		return register.FieldError("password", "must not be the email address")
	}
	return nil
}

func (p *Passwords) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hash returns the argon2id hash of a password.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-p.slots }()
	defer p.release()
	return argon2id.CreateHash(password, p.Params)
}

// Compare reports whether password matches hash. An empty hash (unknown
// user) is compared against a dummy so that timing does not tell.
func (p *Passwords) Compare(ctx context.Context, password, hash string) (bool, error) {
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-p.slots }()
	defer p.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, p.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(password, hash)
}
