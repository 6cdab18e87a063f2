// Package test holds the tests that run the real register binary: crash
// safety and backup under load.
package test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// binary is the register built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "register-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "register")
	build := exec.Command("go", "build", "-o", binary, "../cmd/register")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the register:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const password = "a long enough test password"

// register runs a one-off command against the data folder.
func register(t *testing.T, data, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--data-dir", data}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("register %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// server is one running register process.
type server struct {
	cmd *exec.Cmd
	url string
	log bytes.Buffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start serves the data folder on a fresh port and waits until it is ready.
func start(t *testing.T, data string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{url: "http://" + addr}
	s.cmd = exec.Command(binary, "--data-dir", data, "serve", "--http-addr", addr)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	s.cmd.Env = append(os.Environ(), "REGISTER_LIMITS_PUBLIC=off")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("the register did not become ready: %v\n%s", err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// stop ends the process as an operator would.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.kill()
		t.Fatal("the register did not stop within 15 s")
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request and decodes a JSON answer, if any.
func call(ctx context.Context, method, url, token, key string, body any) (int, map[string]any, error) {
	j, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(j))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, nil
}

// setup makes a data folder with a registrar and returns it.
func setup(t *testing.T) (data, email string) {
	t.Helper()
	data = t.TempDir()
	email = "registrar@example.org"
	register(t, data, password+"\n", "user", "add", "--email", email, "--role", "registrar", "--password-stdin")
	return data, email
}

// login returns an access token from the running server.
func login(t *testing.T, s *server, email string) string {
	t.Helper()
	status, m, err := call(context.Background(), "POST", s.url+"/v1/auth/login", "", "", map[string]any{"email": email, "password": password})
	if err != nil || status != 200 {
		t.Fatalf("login: %d %v %v", status, m, err)
	}
	return m["access_token"].(string)
}

// apiKey makes an agency and returns an API key of it, as an admin.
func apiKey(t *testing.T, s *server, adminToken string) string {
	t.Helper()
	status, m, err := call(context.Background(), "POST", s.url+"/v1/organisations", adminToken, "", map[string]any{"name": "Crash Test Agency", "kind": "agency"})
	if err != nil || status != 201 {
		t.Fatalf("create organisation: %d %v %v", status, m, err)
	}
	status, m, err = call(context.Background(), "POST", fmt.Sprintf("%s/v1/organisations/%v/api-keys", s.url, m["id"]), adminToken, "", map[string]any{"name": "crash test"})
	if err != nil || status != 201 {
		t.Fatalf("create API key: %d %v %v", status, m, err)
	}
	return m["key"].(string)
}

// checkDB opens the file directly and runs SQLite's own checks.
func checkDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check reports violations")
	}
	return db
}
