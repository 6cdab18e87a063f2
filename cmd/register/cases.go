package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/probation-register/register/register/sqlite"
)

func newCasesCmd(e *env) *cobra.Command {
	cases := &cobra.Command{Use: "cases", Short: "Fitness-to-practise cases"}
	cases.AddCommand(&cobra.Command{
		Use:   "due-review",
		Short: "List interim orders in force whose review date has passed, one JSON object a line",
		Long: "Lists every interim order in force whose review_by date has passed, oldest first, as one JSON object\n" +
			"a line (case_id, register_number, kind, from, review_by, until), and a count on standard error.\n" +
			"A panel reviews an interim order by making a new interim decision on the case.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			due, err := sqlite.NewCaseService(m.DB).DueReviews(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(e.out)
			for _, d := range due {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			fmt.Fprintf(e.err, "%d interim orders due for review\n", len(due))
			return nil
		},
	})
	return cases
}
