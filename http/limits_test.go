package http_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// TestResourceLimits sends oversized and pathological requests: each gets a
// 4xx (or a clamped answer), nothing is written, and the server still serves.
func TestResourceLimits(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	before := e.count(`SELECT COUNT(*) FROM registrants`)
	t.Run("TenMegabyteBody", func(t *testing.T) {
		body := `{"family_name":"` + strings.Repeat("a", 10<<20) + `"}`
		e.Do("POST", "/v1/registrants", tok, body).WantError(t, 413, register.ETOOLARGE)
	})
	t.Run("HundredThousandElementArray", func(t *testing.T) {
		r := e.Do("POST", "/v1/registrants", tok, `{"family_name":"A","given_names":"B","date_of_birth":"1985-06-15","email":"a@example.org","previous_names":[`+strings.Repeat(`"x",`, 99_999)+`"x"]}`)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
	})
	t.Run("DeeplyNested", func(t *testing.T) {
		r := e.Do("POST", "/v1/registrants", tok, `{"family_name":`+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+`}`)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
	})
	t.Run("HugeLimit", func(t *testing.T) {
		for _, path := range []string{"/v1/registrants?limit=99999999999999999999999", "/v1/registrants?limit=1000000000", "/v1/registrants?limit=-1"} {
			r := e.Do("GET", path, tok, nil)
			if r.Status != 200 && (r.Status < 400 || r.Status >= 500) {
				t.Fatalf("%s: status %d: %s", path, r.Status, r.Body)
			}
		}
		for _, path := range []string{"/v1/public/search?name=ab&limit=1000000000", "/v1/public/search?name=ab&limit=99999999999999999999"} {
			r := e.Do("GET", path, "", nil)
			if r.Status != 200 && (r.Status < 400 || r.Status >= 500) {
				t.Fatalf("%s: status %d: %s", path, r.Status, r.Body)
			}
		}
	})
	if after := e.count(`SELECT COUNT(*) FROM registrants`); after != before {
		t.Fatalf("%d registrants written by refused requests", after-before)
	}

	// Header limits live on the net/http server the binary runs.
	hs := e.Server.HTTPServer("127.0.0.1:0")
	if hs.ReadHeaderTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Fatalf("ReadHeaderTimeout %s, MaxHeaderBytes %d: both must be set", hs.ReadHeaderTimeout, hs.MaxHeaderBytes)
	}
	hs.ReadHeaderTimeout = 300 * time.Millisecond // the real 5 s, shortened for the test
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	url := "http://" + ln.Addr().String()

	t.Run("HugeHeaders", func(t *testing.T) {
		req, _ := http.NewRequest("GET", url+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("a", 200<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("SlowHeadersAreCutOff", func(t *testing.T) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		// Another client is served while this one dawdles.
		resp, err := http.Get(url + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("another client: %v %v", resp, err)
		}
		resp.Body.Close()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err == nil && !strings.Contains(line, "408") {
			t.Fatalf("the slow client got %q, want the connection closed or 408", line)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server kept a slow-header connection open for 10 s")
		}
	})
}
