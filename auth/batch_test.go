package auth

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestReceipts(t *testing.T) *Receipts {
	t.Helper()
	keys, _, err := LoadKeyring(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	return NewReceipts(keys, "national-probation-register")
}

// TestSignBatch signs batches of every size up to 33 (perfect trees and
// ragged right edges) and of a bulk check's 1,000, and checks each receipt
// verifies with its own claims and nobody else's, and that no two share a
// random id.
func TestSignBatch(t *testing.T) {
	r := newTestReceipts(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	jtis := map[string]bool{}
	sizes := []int{1000}
	for n := 1; n <= 33; n++ {
		sizes = append(sizes, n)
	}
	for _, size := range sizes {
		items := make([]ReceiptItem, size)
		for i := range items {
			n := fmt.Sprintf("PR%07d", i)
			items[i] = ReceiptItem{Number: n, Checker: "organisation:7", CheckedAt: at, Result: json.RawMessage(`{"register_number":"` + n + `"}`)}
		}
		receipts, err := signBatch(r, items)
		if err != nil || len(receipts) != size {
			t.Fatalf("size %d: %d receipts, %v", size, len(receipts), err)
		}
		jws := strings.SplitN(receipts[0], "~", 2)[0]
		for i, rc := range receipts {
			if !strings.HasPrefix(rc, jws+"~") {
				t.Fatalf("size %d: receipt %d has a signature of its own", size, i)
			}
			claims, kid, err := r.Verify(rc)
			if err != nil {
				t.Fatalf("size %d, receipt %d: %v", size, i, err)
			}
			if claims.Subject != items[i].Number || string(claims.Result) != string(items[i].Result) || kid != r.Keys.Current().ID ||
				claims.Checker != "organisation:7" || claims.CheckedAt != "2026-03-02T10:00:00Z" || claims.Audience[0] != ReceiptAudience {
				t.Fatalf("size %d, receipt %d: claims %+v", size, i, claims)
			}
			if jtis[claims.ID] || len(claims.ID) != 12 {
				t.Fatalf("size %d, receipt %d: random id %q repeated or not 9 bytes", size, i, claims.ID)
			}
			jtis[claims.ID] = true
		}
		if size < 2 {
			continue
		}
		// Another receipt's claims, or another index, with this path: refused.
		a, b := strings.Split(receipts[0], "~"), strings.Split(receipts[size-1], "~")
		for _, forged := range []string{
			strings.Join([]string{a[0], b[1], a[2], a[3]}, "~"),
			strings.Join([]string{a[0], a[1], b[2], a[3]}, "~"),
			strings.Join([]string{a[0], a[1], a[2], b[3]}, "~"),
			strings.Join([]string{a[0], a[1], "0" + a[2], a[3]}, "~"),
			strings.Join([]string{a[0], a[1], a[2], a[3] + "." + a[3]}, "~"),
			strings.Join([]string{a[0], a[1], a[2]}, "~"),
			a[0], // the batch's signature alone is no receipt
		} {
			if _, _, err := r.Verify(forged); err == nil {
				t.Fatalf("size %d: a forged receipt verified: %s", size, forged)
			}
		}
	}
	// Receipts signed one at a time still verify.
	single, err := r.Sign("PR0000018", "public", at, json.RawMessage(`{"status":"registered"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := r.Verify(single); err != nil || c.Subject != "PR0000018" {
		t.Fatalf("single receipt: %v %+v", err, c)
	}
	for _, bad := range []string{`{"open":`, `"a string"`, `[]`, `{`, ``} {
		if _, err := signBatch(r, []ReceiptItem{{Number: "PR0000018", CheckedAt: at, Result: json.RawMessage(bad)}}); err == nil {
			t.Fatalf("a result that is not a JSON object was signed: %q", bad)
		}
	}
}

// TestReceiptBatcher signs from many goroutines at once: each gets the
// receipt of its own check, and they share signatures.
func TestReceiptBatcher(t *testing.T) {
	r := newTestReceipts(t)
	b := &ReceiptBatcher{Receipts: r, Linger: 20 * time.Millisecond}
	const n = 64
	receipts := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			// As the server does: the receipt replaces the answer's
			// closing brace, in the answer's own buffer.
			answer := fmt.Appendf(make([]byte, 0, 4096), `{"i":%d}`, i)
			out, err := b.Append(answer[:len(answer)-1], `,"receipt":"`, ReceiptItem{Number: fmt.Sprintf("PR%07d", i), Checker: "public", CheckedAt: time.Now(),
				Result: json.RawMessage(answer)})
			head := fmt.Sprintf(`{"i":%d,"receipt":"`, i)
			receipts[i], errs[i] = strings.TrimPrefix(string(out), head), err
			if err == nil && !strings.HasPrefix(string(out), head) {
				errs[i] = fmt.Errorf("request %d: got %.40q, want the answer before its receipt", i, out)
			}
		})
	}
	close(start)
	wg.Wait()
	signatures := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		c, _, err := r.Verify(receipts[i])
		if err != nil || c.Subject != fmt.Sprintf("PR%07d", i) || string(c.Result) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("receipt %d: %v %+v", i, err, c)
		}
		signatures[strings.SplitN(receipts[i], "~", 2)[0]] = true
	}
	if len(signatures) >= n/2 {
		t.Fatalf("%d signatures for %d receipts gathered together", len(signatures), n)
	}
	t.Logf("%d receipts, %d signatures", n, len(signatures))
}

// signBatch is every item's receipt from one signed tree, as strings.
func signBatch(r *Receipts, items []ReceiptItem) ([]string, error) {
	sb, err := r.SignTree(items)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i := range out {
		out[i] = string(sb.AppendReceipt(nil, i))
	}
	return out, nil
}
