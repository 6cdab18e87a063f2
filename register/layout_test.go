package register_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/probation-register/register"

// TestImportDirection keeps the arrows pointing inward: the domain imports
// only the standard library; http never reaches the store; only cmd/register
// knows every package.
func TestImportDirection(t *testing.T) {
	forbidden := map[string][]string{
		"register":        {module + "/"},
		"register/sqlite": {module + "/http", module + "/auth", module + "/cmd"},
		"auth":            {module + "/http", module + "/register/sqlite", module + "/cmd"},
		"http":            {module + "/register/sqlite", module + "/cmd"},
		"migrations":      {module + "/"},
		"webhook":         {module + "/http", module + "/register/sqlite", module + "/auth", module + "/cmd"},
	}
	for dir, bad := range forbidden {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no Go files in %s", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				for _, b := range bad {
					if strings.HasPrefix(path, b) || path == strings.TrimSuffix(b, "/") {
						t.Errorf("%s imports %s", f, path)
					}
				}
				if dir == "register" && strings.Contains(strings.Split(path, "/")[0], ".") {
					t.Errorf("%s imports %s: the domain uses the standard library only", f, path)
				}
			}
		}
	}
}
