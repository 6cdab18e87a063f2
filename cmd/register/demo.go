package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// Temporary: replaced by the demo data generator.
func seedDemo(ctx context.Context, m *Main, out io.Writer) error { return errors.New("demo data: not built yet") }

func newDemoCmd(e *env) *cobra.Command { return &cobra.Command{Use: "demo", Hidden: true} }

func newImportCmd(e *env) *cobra.Command { return &cobra.Command{Use: "import", Hidden: true} }
