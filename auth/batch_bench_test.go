package auth

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// benchAnswer is a public answer of the median size (about 600 bytes).
const benchAnswer = `{"as_at":"2026-11-30T12:00:00Z","checked_at":"2026-11-30T12:00:00Z","register_number":"PR0418277","name":"Margaret Okonkwo-Hughes","status":"registered","may_practise":true,"roles":["probation_officer","probation_services_officer"],"registered_until":"2027-03-31","qualifications":[{"level":"level_5","title":"Professional Qualification in Probation","awarding_body":"University of Portsmouth","awarded_on":"2019-07-12"},{"level":"level_3","title":"Level 3 Diploma in Probation Practice","awarding_body":"Pearson","awarded_on":"2016-05-20"}],"conditions":[],"sanctions":[],"history":[{"status":"registered","from":"2016-06-01"}]}`

// BenchmarkSignBatch is the server time per receipt for batches of the
// sizes public requests share (1 to 32) and a bulk check's (1,000): the
// tree signed once, each receipt written into one buffer, as a bulk check
// writes them into its answer.
func BenchmarkSignBatch(b *testing.B) {
	keys, _, err := LoadKeyring(b.TempDir(), true)
	if err != nil {
		b.Fatal(err)
	}
	r := NewReceipts(keys, "national-probation-register")
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, size := range []int{1, 8, 32, 1000} {
		items := make([]ReceiptItem, size)
		for i := range items {
			items[i] = ReceiptItem{Number: fmt.Sprintf("PR%07d", i), Checker: "public", CheckedAt: at, Result: json.RawMessage(benchAnswer)}
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				sb, err := r.SignTree(items)
				if err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
				for i := range items {
					buf = sb.AppendReceipt(buf, i)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size)/1000, "µs/receipt")
		})
	}
}
