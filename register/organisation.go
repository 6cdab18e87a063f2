package register

import (
	"context"
	"strings"
	"time"
)

// OrgKind is what sort of organisation checks the register.
type OrgKind string

// Organisation kinds; each matches the role of its users.
const (
	OrgEmployer OrgKind = "employer"
	OrgAgency   OrgKind = "agency"
)

// Organisation is an employer or agency that engages practitioners.
type Organisation struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Kind    OrgKind   `json:"kind"`
	Created time.Time `json:"created_at"`
}

// Validate checks a new organisation's fields.
func (o *Organisation) Validate() error {
	v := Validation{}
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" || len(o.Name) > 200 {
		v.Add("name", "must be 1 to 200 characters")
	}
	if o.Kind != OrgEmployer && o.Kind != OrgAgency {
		v.Add("kind", "must be employer or agency")
	}
	return v.Err()
}

// APIKey is an organisation's key as listed: never the secret itself.
type APIKey struct {
	ID             int64      `json:"id"`
	OrganisationID int64      `json:"organisation_id"`
	Prefix         string     `json:"prefix"`
	Name           string     `json:"name"`
	Created        time.Time  `json:"created_at"`
	Revoked        *time.Time `json:"revoked_at"`
}

// OrgPrincipal is who acts on an organisation route: the organisation,
// through one of its users or one of its keys. Every organisation query is
// scoped by OrganisationID, read from here and never from a request.
type OrgPrincipal struct {
	OrganisationID int64
	Kind           OrgKind
	Actor          Actor
}

// OrganisationService keeps organisations and their API keys.
type OrganisationService interface {
	// CreateOrganisation adds an organisation. EINVALID.
	CreateOrganisation(ctx context.Context, o *Organisation) error
	// FindOrganisation returns one. ENOTFOUND.
	FindOrganisation(ctx context.Context, id int64) (*Organisation, error)
	// CreateAPIKey stores a key by its hash and prefix. ENOTFOUND for an unknown organisation.
	CreateAPIKey(ctx context.Context, orgID int64, name, prefix, hash string) (*APIKey, error)
	// FindAPIKeys lists an organisation's keys, revoked ones included.
	FindAPIKeys(ctx context.Context, orgID int64) ([]*APIKey, error)
	// RevokeAPIKey revokes a key of the organisation. ENOTFOUND if it has no such key.
	RevokeAPIKey(ctx context.Context, orgID, keyID int64) (*APIKey, error)
	// AuthenticateAPIKey returns the principal of an unrevoked key by its
	// hash. EUNAUTHORIZED for an unknown or revoked key.
	AuthenticateAPIKey(ctx context.Context, hash string) (*OrgPrincipal, error)
}
