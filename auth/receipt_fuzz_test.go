package auth_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
)

// FuzzVerifyReceipt feeds Verify mangled receipts of both forms: it must
// never panic, and anything it accepts must be a check that was signed.
func FuzzVerifyReceipt(f *testing.F) {
	keys, _, err := auth.LoadKeyring(f.TempDir(), true)
	if err != nil {
		f.Fatal(err)
	}
	r := auth.NewReceipts(keys, "national-probation-register")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	signed := map[string]bool{}
	var items []auth.ReceiptItem
	for _, n := range []string{"PR0000018", "PR0000026", "PR0000034"} {
		items = append(items, auth.ReceiptItem{Number: n, Checker: "public", CheckedAt: at, Result: json.RawMessage(`{"register_number":"` + n + `"}`)})
		signed[n] = true
	}
	sb, err := r.SignTree(items)
	if err != nil {
		f.Fatal(err)
	}
	var batch []string
	for i := range items {
		batch = append(batch, string(sb.AppendReceipt(nil, i)))
	}
	single, err := r.Sign("PR0000018", "public", at, items[0].Result)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range append(batch, single) {
		f.Add(s)
	}
	p := strings.Split(batch[1], "~")
	f.Add(p[0] + "~" + p[1] + "~18446744073709551615~" + p[3])
	f.Add(p[0] + "~" + p[1] + "~1~" + strings.Repeat(p[3]+".", 70))
	f.Add(p[0])
	f.Add(strings.Repeat("~", 4000))
	f.Fuzz(func(t *testing.T, receipt string) {
		claims, _, err := r.Verify(receipt)
		if err == nil && (!signed[claims.Subject] || string(claims.Result) != `{"register_number":"`+claims.Subject+`"}`) {
			t.Fatalf("accepted a receipt for %q that was never signed", claims.Subject)
		}
	})
}
