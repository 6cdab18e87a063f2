package register

import "context"

// Watch is one registrant an organisation watches: because it engages
// them (Engaged), because it added them (Added), or both.
type Watch struct {
	Number  string `json:"register_number"`
	Engaged bool   `json:"engaged"`
	Added   bool   `json:"added"`
}

// WatchService keeps organisations' watch lists, always scoped by organisation.
type WatchService interface {
	// AddWatch adds a registrant on the register. ENOTFOUND otherwise.
	AddWatch(ctx context.Context, orgID int64, number string) (*Watch, error)
	// RemoveWatch removes an added registrant. ENOTFOUND if not added.
	RemoveWatch(ctx context.Context, orgID int64, number string) error
	// FindWatches lists everyone the organisation engages or added, by number.
	FindWatches(ctx context.Context, orgID int64) ([]*Watch, error)
}
