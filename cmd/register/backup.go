package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newBackupCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the live database to FILE (SQLite online backup)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			if err := m.DB.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "backup written to %s\n", args[0])
			return nil
		},
	}
}
