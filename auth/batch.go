package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// A batched receipt carries the same claims as a single one (Sign), but
// many receipts share one signature: the claims of every receipt in a
// batch are the leaves of a Merkle tree (RFC 6962, SHA-256), and one
// compact JWS signs the tree's root. Each receipt is four parts joined by
// "~":
//
//	<JWS over the batch> ~ <claims, base64url> ~ <leaf index> ~ <audit path: hashes, base64url, joined by ".">
//
// The JWS's typ is BatchReceiptType and its payload
// {"iss","aud":["register-receipt"],"iat","tree":"rfc6962-sha256","size","root"}.
// To verify: check the JWS as for a single receipt; hash the decoded claims
// as an RFC 6962 leaf (SHA-256 of a zero byte and the claims); check the
// audit path takes that leaf at that index to the root in a tree of that
// size (RFC 6962 section 2.1.1, RFC 9162 section 2.1.3.2); then read the
// claims as a single receipt's payload. docs/organisations.md shows it.
//
// An Ed25519 signature costs more server time than answering a
// verification from memory; a bulk check of 1,000 items signs once, and
// concurrent public checks asking for receipts share a signature through
// ReceiptBatcher.
const (
	BatchReceiptType = "npr-receipt-batch+jwt"
	BatchTree        = "rfc6962-sha256"
)

// ReceiptItem is one check to sign.
type ReceiptItem struct {
	Number, Checker string
	CheckedAt       time.Time
	Result          json.RawMessage
}

// BatchClaims are a batch JWS's payload.
type BatchClaims struct {
	jwt.RegisteredClaims
	Tree string `json:"tree"`
	Size uint64 `json:"size"`
	Root string `json:"root"`
}

var merkleHasher = rfc6962.New(crypto.SHA256)

// SignedBatch is a signed tree of receipts' claims: the JWS over its root,
// and each receipt's claims and audit path, from which AppendReceipt writes
// receipt i (of the items in the order signed) wherever its caller wants it.
type SignedBatch struct {
	jws    []byte
	claims [][]byte
	paths  [][][]byte
}

// SignTree signs every item's receipt with one signature: it builds the
// tree of the items' claims and signs its root. Each Result must be a JSON
// object the register encoded (a public answer); unlike Sign, which checks
// the whole result, SignTree checks only that it is braced: at a thousand
// items a full check cost a seventh of the batch.
func (r *Receipts) SignTree(items []ReceiptItem) (*SignedBatch, error) {
	if len(items) == 0 {
		return &SignedBatch{}, nil
	}
	enc := base64.RawURLEncoding
	jtis := make([]byte, jtiSize*len(items))
	if _, err := rand.Read(jtis); err != nil {
		return nil, err
	}
	// Every item's claims in one buffer, each a part of it.
	room := 0
	for _, it := range items {
		room += claimsRoom + len(r.Issuer) + len(it.Number) + len(it.Checker) + len(it.Result)
	}
	buf := make([]byte, 0, room)
	claims := make([][]byte, len(items))
	leaves := make([][]byte, len(items))
	for i, it := range items {
		if n := len(it.Result); n < 2 || it.Result[0] != '{' || it.Result[n-1] != '}' {
			return nil, errors.New("receipt: result is not a JSON object")
		}
		start := len(buf)
		buf = r.appendClaims(buf, it.Number, it.Checker, it.CheckedAt, it.Result, jtis[i*jtiSize:(i+1)*jtiSize])
		c := buf[start:len(buf):len(buf)]
		claims[i], leaves[i] = c, merkleHasher.HashLeaf(c)
	}
	// Every node of the tree, level by level, for the audit paths.
	size := uint64(len(items))
	nodes := make([][][]byte, bits.Len64(size)+1)
	for level := range nodes {
		nodes[level] = make([][]byte, (size>>level)+1)
	}
	visit := func(id compact.NodeID, hash []byte) {
		// Every node of a tree of this size fits; one that did not would
		// be reported missing by auditPath rather than panic here.
		if int(id.Level) < len(nodes) && id.Index < uint64(len(nodes[id.Level])) {
			nodes[id.Level][id.Index] = hash
		}
	}
	rf := compact.RangeFactory{Hash: merkleHasher.HashChildren}
	tree := rf.NewEmptyRange(0)
	for _, leaf := range leaves {
		if err := tree.Append(leaf, visit); err != nil {
			return nil, err
		}
	}
	copy(nodes[0], leaves)
	root, err := tree.GetRootHash(visit)
	if err != nil {
		return nil, err
	}
	key := r.Keys.Current()
	p := make([]byte, 0, 160+len(r.Issuer))
	p = append(p, `{"iss":`...)
	p = appendJSONString(p, r.Issuer)
	p = append(p, `,"aud":["`+ReceiptAudience+`"],"iat":`...)
	p = strconv.AppendInt(p, items[0].CheckedAt.Unix(), 10)
	p = append(p, `,"tree":"`+BatchTree+`","size":`...)
	p = strconv.AppendUint(p, size, 10)
	p = append(p, `,"root":"`...)
	p = enc.AppendEncode(p, root)
	p = append(p, `"}`...)
	jws := append([]byte(r.header(key, BatchReceiptType)), '.')
	jws = enc.AppendEncode(jws, p)
	sig := ed25519.Sign(key.Private, jws)
	jws = append(jws, '.')
	jws = enc.AppendEncode(jws, sig)

	paths := make([][][]byte, len(items))
	for i := range items {
		if paths[i], err = auditPath(nodes, uint64(i), size); err != nil {
			return nil, err
		}
	}
	return &SignedBatch{jws: jws, claims: claims, paths: paths}, nil
}

// claimsRoom is what a receipt's claims take beyond their variable parts.
const claimsRoom = 160

// ReceiptLen is at least the length of receipt i.
func (b *SignedBatch) ReceiptLen(i int) int {
	enc := base64.RawURLEncoding
	return len(b.jws) + enc.EncodedLen(len(b.claims[i])) + 24 + len(b.paths[i])*(enc.EncodedLen(sha256.Size)+1)
}

// AppendReceipt appends receipt i: the batch JWS, its claims, its index
// and its audit path, joined by "~".
func (b *SignedBatch) AppendReceipt(dst []byte, i int) []byte {
	enc := base64.RawURLEncoding
	dst = slices.Grow(dst, b.ReceiptLen(i))
	dst = append(dst, b.jws...)
	dst = append(dst, '~')
	dst = enc.AppendEncode(dst, b.claims[i])
	dst = append(dst, '~')
	dst = strconv.AppendUint(dst, uint64(i), 10)
	dst = append(dst, '~')
	for j, h := range b.paths[i] {
		if j > 0 {
			dst = append(dst, '.')
		}
		dst = enc.AppendEncode(dst, h)
	}
	return dst
}

// auditPath is leaf index's inclusion proof, from the tree's nodes.
func auditPath(nodes [][][]byte, index, size uint64) ([][]byte, error) {
	need, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(need.IDs))
	for i, id := range need.IDs {
		if int(id.Level) >= len(nodes) || id.Index >= uint64(len(nodes[id.Level])) || nodes[id.Level][id.Index] == nil {
			return nil, errors.New("receipt: a node of the tree is missing")
		}
		hashes[i] = nodes[id.Level][id.Index]
	}
	return need.Rehash(hashes, merkleHasher.HashChildren)
}

// verifyBatch verifies a batched receipt and returns its claims.
func (r *Receipts) verifyBatch(receipt string) (*ReceiptClaims, string, error) {
	parts := strings.Split(receipt, "~")
	if len(parts) != 4 {
		return nil, "", ErrReceipt
	}
	var batch BatchClaims
	kid, err := r.parse(parts[0], BatchReceiptType, &batch)
	if err != nil || batch.Tree != BatchTree {
		return nil, "", ErrReceipt
	}
	enc := base64.RawURLEncoding.Strict()
	root, err := enc.DecodeString(batch.Root)
	if err != nil {
		return nil, "", ErrReceipt
	}
	claimsJSON, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, "", ErrReceipt
	}
	index, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || strconv.FormatUint(index, 10) != parts[2] {
		return nil, "", ErrReceipt
	}
	var path [][]byte
	if parts[3] != "" {
		for _, s := range strings.Split(parts[3], ".") {
			h, err := enc.DecodeString(s)
			if err != nil {
				return nil, "", ErrReceipt
			}
			path = append(path, h)
		}
	}
	if proof.VerifyInclusion(merkleHasher, index, batch.Size, merkleHasher.HashLeaf(claimsJSON), path, root) != nil {
		return nil, "", ErrReceipt
	}
	var claims ReceiptClaims
	if err := json.Unmarshal(claimsJSON, &claims); err != nil || claims.Issuer != r.Issuer ||
		len(claims.Audience) != 1 || claims.Audience[0] != ReceiptAudience {
		return nil, "", ErrReceipt
	}
	return &claims, kid, nil
}

// ReceiptBatcher signs the receipts of concurrent requests together. The
// first request to arrive when no batch is gathering waits Linger for
// others to join, then signs the batch for all of them; requests arriving
// meanwhile gather the next one. Under load a batch holds as many
// receipts as arrive in Linger plus one signature; with one request at a
// time each waits Linger and has a batch of its own.
type ReceiptBatcher struct {
	Receipts *Receipts
	Linger   time.Duration

	mu        sync.Mutex
	gathering *receiptBatch
}

// DefaultLinger is how long a batch gathers: well under a request's time
// on the network, and under load enough to share one signature among tens.
const DefaultLinger = 250 * time.Microsecond

type receiptBatch struct {
	items  []ReceiptItem
	signed *SignedBatch
	err    error
	done   chan struct{}
}

// Append appends prefix and item's receipt, signed in a batch, to dst. The
// batch's first request signs the tree for all; each request then writes
// its own receipt, on its own goroutine, where it wants it. Nothing is
// written to dst before the batch is signed, so dst may share its array
// with item.Result (a receipt replacing an answer's closing brace).
func (b *ReceiptBatcher) Append(dst []byte, prefix string, item ReceiptItem) ([]byte, error) {
	b.mu.Lock()
	batch := b.gathering
	leader := batch == nil
	if leader {
		batch = &receiptBatch{done: make(chan struct{})}
		b.gathering = batch
	}
	i := len(batch.items)
	batch.items = append(batch.items, item)
	b.mu.Unlock()
	if leader {
		time.Sleep(b.Linger)
		b.mu.Lock()
		b.gathering = nil
		b.mu.Unlock()
		batch.signed, batch.err = b.Receipts.SignTree(batch.items)
		close(batch.done)
	} else {
		<-batch.done
	}
	if batch.err != nil {
		return dst, batch.err
	}
	return batch.signed.AppendReceipt(append(dst, prefix...), i), nil
}
