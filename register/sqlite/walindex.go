package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// walHeader is the first copy of the WAL-index header: 48 bytes that
// every commit in WAL mode rewrites (its frame count, salts and checksum
// change), read by every SQLite connection to decide whether its snapshot
// is current (https://sqlite.org/walformat.html, section 2.1).
type walHeader [12]uint32

// walIndex is the database's -shm file, mapped read-only.
type walIndex struct {
	mem []byte
	f   *os.File
}

// header reads the header with atomic loads: another process writes it.
// A read torn by a concurrent commit differs from the last one read,
// which only costs a catch-up.
func (w *walIndex) header() walHeader {
	var h walHeader
	p := (*[12]uint32)(unsafe.Pointer(&w.mem[0]))
	for i := range h {
		h[i] = atomic.LoadUint32(&p[i])
	}
	return h
}

func mapWALIndex(path string) (*walIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || st.Size() < 136 {
		f.Close()
		return nil, fmt.Errorf("%s is not an initialised WAL index (%v)", path, err)
	}
	mem, err := mapShared(f, 136)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &walIndex{mem: mem, f: f}, nil
}

// close closes the file but keeps the mapping (a page of address space):
// a lookup that began before its cache closed may still read the header,
// and a stale header only sends it to the database.
func (w *walIndex) close() {
	w.f.Close()
}
