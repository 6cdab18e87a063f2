// Command peer is the benchmark's peer: PocketBase, a popular Go backend
// that a team might use instead of the register, serving the same
// registrants as a collection with a public list rule and an index on
// register_number. It lives in its own module so that the register never
// depends on PocketBase.
//
//	peer -dir DIR [-load FILE.csv] -http 127.0.0.1:8091
//
// -load fills an empty collection from a CSV whose header names the fields
// below; the loading time is printed. Then it serves until interrupted.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// collection is the peer's name for the registrants it serves.
const collection = "registrants"

// textFields and jsonFields are the collection's fields, in CSV order:
// what a team would filter on, and the whole public answer.
var (
	textFields = []string{"register_number", "family_name", "given_names", "status", "registered_until"}
	jsonFields = []string{"answer"}
)

func main() {
	dir := flag.String("dir", "pb_data", "PocketBase data folder")
	load := flag.String("load", "", "CSV of registrants to load into an empty collection")
	addr := flag.String("http", "127.0.0.1:8091", "listen address")
	flag.Parse()

	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: *dir, HideStartBanner: true})
	if err := app.Bootstrap(); err != nil {
		log.Fatalf("peer: bootstrap: %v", err)
	}
	if err := ensureCollection(app); err != nil {
		log.Fatalf("peer: collection: %v", err)
	}
	if *load != "" {
		start := time.Now()
		n, err := loadCSV(app, *load)
		if err != nil {
			log.Fatalf("peer: load %s: %v", *load, err)
		}
		fmt.Printf("peer: loaded %d registrants in %.1f s\n", n, time.Since(start).Seconds())
	}
	if err := apis.Serve(app, apis.ServeConfig{HttpAddr: *addr}); err != nil {
		log.Fatalf("peer: serve: %v", err)
	}
}

// ensureCollection creates the registrants collection, readable by anyone,
// unless it exists.
func ensureCollection(app core.App) error {
	if _, err := app.FindCollectionByNameOrId(collection); err == nil {
		return nil
	}
	c := core.NewBaseCollection(collection)
	c.ListRule = types.Pointer("")
	c.ViewRule = types.Pointer("")
	for _, name := range textFields {
		c.Fields.Add(&core.TextField{Name: name, Required: name == "register_number"})
	}
	for _, name := range jsonFields {
		c.Fields.Add(&core.JSONField{Name: name})
	}
	c.AddIndex("idx_registrants_register_number", true, "register_number", "")
	return app.Save(c)
}

// loadCSV inserts the rows in one transaction with one prepared statement:
// PocketBase's record API (validation and hooks per record) would take many
// minutes for a million rows, and only the serving is being compared.
func loadCSV(app core.App, path string) (int, error) {
	var count int
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM " + collection).Row(&count); err != nil {
		return 0, err
	}
	if count > 0 {
		return 0, fmt.Errorf("collection already holds %d records", count)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return 0, err
	}
	fields := append(append([]string{}, textFields...), jsonFields...)
	if len(header) != len(fields) {
		return 0, fmt.Errorf("header %v, want %v", header, fields)
	}
	for i, h := range header {
		if h != fields[i] {
			return 0, fmt.Errorf("header %v, want %v", header, fields)
		}
	}
	db, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return 0, errors.New("unexpected database type")
	}
	tx, err := db.DB().Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q := "INSERT INTO " + collection + " (id"
	for _, name := range fields {
		q += ", " + name
	}
	q += ") VALUES (?" + strings.Repeat(", ?", len(fields)) + ")"
	stmt, err := tx.Prepare(q)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	args := make([]any, len(fields)+1)
	n := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return n, err
		}
		args[0] = core.GenerateDefaultRandomId()
		for i, v := range rec {
			args[i+1] = v
		}
		if _, err := stmt.Exec(args...); err != nil {
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return n, err
	}
	return n, nil
}
