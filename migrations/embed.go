// Package migrations holds the register's numbered SQL migrations.
package migrations

import "embed"

// FS holds every migration, applied in order by goose.
//
//go:embed *.sql
var FS embed.FS
