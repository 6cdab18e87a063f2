//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

// allocArena allocates n bytes on the Go heap where mapping memory
// outside it is not available (answercache.go).
func allocArena(n int) []byte { return make([]byte, n) }

func freeArena([]byte) {}

func mapShared(*os.File, int) ([]byte, error) {
	return nil, errors.New("the WAL index cannot be mapped on this system")
}
