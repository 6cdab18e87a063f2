package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Key is an Ed25519 signing key with its key id.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// Keyring holds the signing keys: the newest signs, all verify, so that a
// rotation keeps older tokens and receipts verifiable.
type Keyring struct {
	Keys []*Key // oldest first
}

// Current is the key that signs.
func (k *Keyring) Current() *Key { return k.Keys[len(k.Keys)-1] }

// Find returns the key with id kid, or nil.
func (k *Keyring) Find(kid string) *Key {
	for _, key := range k.Keys {
		if key.ID == kid {
			return key
		}
	}
	return nil
}

// NewKey makes a fresh Ed25519 key.
func NewKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return keyOf(priv), nil
}

func keyOf(priv ed25519.PrivateKey) *Key {
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return &Key{ID: base64.RawURLEncoding.EncodeToString(sum[:12]), Private: priv, Public: pub}
}

// LoadKeyring reads every signing-*.pem in dir, in name order (names carry
// a sequence number). With none there and generate set, it writes a new key
// (mode 0600) and reports that it did.
func LoadKeyring(dir string, generate bool) (*Keyring, bool, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "signing-*.pem"))
	if err != nil {
		return nil, false, err
	}
	sort.Strings(paths)
	ring := &Keyring{}
	for _, p := range paths {
		key, err := readKey(p)
		if err != nil {
			return nil, false, err
		}
		ring.Keys = append(ring.Keys, key)
	}
	if len(ring.Keys) > 0 {
		return ring, false, nil
	}
	if !generate {
		return nil, false, fmt.Errorf("no signing key in %s", dir)
	}
	key, err := RotateKey(dir)
	if err != nil {
		return nil, false, err
	}
	ring.Keys = append(ring.Keys, key)
	return ring, true, nil
}

// RotateKey writes a new signing key into dir after the existing ones.
func RotateKey(dir string) (*Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "signing-*.pem"))
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key.Private)
	if err != nil {
		return nil, err
	}
	name := filepath.Join(dir, fmt.Sprintf("signing-%04d.pem", len(paths)+1))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

func readKey(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s is readable by others (mode %o): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || !strings.Contains(block.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("signing key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("signing key " + path + ": not Ed25519")
	}
	return keyOf(priv), nil
}

// Sign signs msg with the current key and names it, for signed records
// such as audit checkpoints.
func (k *Keyring) Sign(msg []byte) (kid string, sig []byte) {
	key := k.Current()
	return key.ID, ed25519.Sign(key.Private, msg)
}

// PublicKey returns the public half of key kid, or nil.
func (k *Keyring) PublicKey(kid string) ed25519.PublicKey {
	if key := k.Find(kid); key != nil {
		return key.Public
	}
	return nil
}
