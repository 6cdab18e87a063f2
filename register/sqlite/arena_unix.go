//go:build unix

package sqlite

import (
	"os"
	"syscall"
)

// allocArena maps n bytes outside the Go heap (answercache.go).
func allocArena(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic("sqlite: answer cache: " + err.Error()) // out of address space
	}
	return b
}

func freeArena(b []byte) { syscall.Munmap(b) }

// mapShared maps the first n bytes of f read-only, shared with the
// processes that write it.
func mapShared(f *os.File, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
}
